//! A table of TLS 1.0–1.2 cipher suites by IANA id, with what each is made of, so the
//! strength checks classify by table (key exchange, cipher), never by matching names.
//!
//! The table is what the cipher scan offers: every suite OpenSSL can negotiate at TLS
//! 1.0–1.2 (`openssl ciphers -V 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'`; a test keeps it so),
//! strong and weak (NULL, EXPORT, RC4, DES, 3DES, anonymous, static DH/ECDH, RSA key
//! exchange, PSK, SRP, CBC, CCM, GCM, ChaCha20, Camellia, ARIA, SEED, IDEA), plus a few
//! legacy suites OpenSSL no longer builds (RC4, DES, EXPORT) that old servers still
//! pick. A PSK or SRP suite is chosen from the ClientHello alone, before any key or
//! password is exchanged, so a server that enables one is seen like any other.

use serde::Serialize;

/// How the suite agrees on keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyExchange {
    /// Ephemeral elliptic-curve Diffie-Hellman, authenticated (forward secret).
    Ecdhe,
    /// Ephemeral finite-field Diffie-Hellman, authenticated (forward secret).
    Dhe,
    /// The client encrypts the secret to the server's RSA key (no forward secrecy).
    Rsa,
    /// Static DH from the certificate (no forward secrecy).
    DhStatic,
    /// Static ECDH from the certificate (no forward secrecy).
    EcdhStatic,
    /// Anonymous DH: no server authentication at all.
    AnonDh,
    /// Anonymous ECDH: no server authentication at all.
    AnonEcdh,
    /// Pre-shared key alone (no forward secrecy).
    Psk,
    /// Ephemeral DH with a pre-shared key (forward secret).
    DhePsk,
    /// Ephemeral ECDH with a pre-shared key (forward secret).
    EcdhePsk,
    /// RSA key transport with a pre-shared key (no forward secrecy).
    RsaPsk,
    /// SRP password-authenticated key exchange.
    Srp,
}

impl KeyExchange {
    /// `ECDHE`, `DHE`, `RSA`, `DH`, `ECDH`, `anonymous DH`, `anonymous ECDH`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyExchange::Ecdhe => "ECDHE",
            KeyExchange::Dhe => "DHE",
            KeyExchange::Rsa => "RSA",
            KeyExchange::DhStatic => "DH",
            KeyExchange::EcdhStatic => "ECDH",
            KeyExchange::AnonDh => "anonymous DH",
            KeyExchange::AnonEcdh => "anonymous ECDH",
            KeyExchange::Psk => "PSK",
            KeyExchange::DhePsk => "DHE-PSK",
            KeyExchange::EcdhePsk => "ECDHE-PSK",
            KeyExchange::RsaPsk => "RSA-PSK",
            KeyExchange::Srp => "SRP",
        }
    }

    /// Whether the suite is ECDHE or DHE (with a certificate or a pre-shared key): a
    /// recorded session stays secret when the server's key leaks later. (Anonymous DH
    /// is ephemeral too, but unauthenticated; it does not count.)
    pub fn is_forward_secret(self) -> bool {
        matches!(
            self,
            KeyExchange::Ecdhe | KeyExchange::Dhe | KeyExchange::DhePsk | KeyExchange::EcdhePsk
        )
    }

    /// Whether the server is not authenticated at all.
    pub fn is_anonymous(self) -> bool {
        matches!(self, KeyExchange::AnonDh | KeyExchange::AnonEcdh)
    }
}

/// The bulk cipher (and mode) of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cipher {
    /// No encryption at all.
    Null,
    /// Export-grade (40/56-bit) encryption.
    Export,
    /// RC4 (RFC 7465 forbids it).
    Rc4,
    /// Single DES (56-bit).
    Des,
    /// Triple DES (64-bit block: Sweet32).
    TripleDes,
    /// IDEA in CBC mode (64-bit block).
    Idea,
    /// SEED in CBC mode.
    Seed,
    /// Camellia in CBC mode.
    Camellia,
    /// ARIA (CBC or GCM).
    Aria,
    /// AES in CBC mode.
    AesCbc,
    /// AES in CCM mode.
    AesCcm,
    /// AES in GCM mode.
    AesGcm,
    /// ChaCha20-Poly1305.
    Chacha20,
}

impl Cipher {
    /// A short name: `NULL`, `EXPORT`, `RC4`, `DES`, `3DES`, `AES-GCM`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Cipher::Null => "NULL",
            Cipher::Export => "EXPORT",
            Cipher::Rc4 => "RC4",
            Cipher::Des => "DES",
            Cipher::TripleDes => "3DES",
            Cipher::Idea => "IDEA",
            Cipher::Seed => "SEED",
            Cipher::Camellia => "CAMELLIA",
            Cipher::Aria => "ARIA",
            Cipher::AesCbc => "AES-CBC",
            Cipher::AesCcm => "AES-CCM",
            Cipher::AesGcm => "AES-GCM",
            Cipher::Chacha20 => "CHACHA20-POLY1305",
        }
    }
}

/// One cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    /// The IANA id (two bytes on the wire).
    pub id: u16,
    /// The IANA name, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
    pub name: &'static str,
    /// Key exchange.
    pub key_exchange: KeyExchange,
    /// Bulk cipher.
    pub cipher: Cipher,
}

impl Suite {
    /// Why the suite is weak, or `None`: NULL, EXPORT, RC4, DES, 3DES ciphers and
    /// anonymous key exchange (the classes `tls.no-weak-ciphers` refuses).
    pub fn weakness(&self) -> Option<&'static str> {
        match self.cipher {
            Cipher::Null => return Some("NULL cipher: no encryption"),
            Cipher::Export => return Some("EXPORT grade: 40/56-bit keys"),
            Cipher::Rc4 => return Some("RC4: broken stream cipher (RFC 7465)"),
            Cipher::Des => return Some("single DES: 56-bit key"),
            Cipher::TripleDes => return Some("3DES: 64-bit block (Sweet32)"),
            _ => {}
        }
        self.key_exchange
            .is_anonymous()
            .then_some("anonymous: the server is not authenticated")
    }

    /// Whether Mozilla's "intermediate" profile (v5.7) allows this suite at TLS 1.2:
    /// ECDHE-ECDSA/ECDHE-RSA with AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305, and
    /// DHE-RSA with AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305.
    pub fn mozilla_intermediate(&self) -> bool {
        MOZILLA_INTERMEDIATE_TLS12.contains(&self.id)
    }
}

/// The TLS 1.2 suites of Mozilla's intermediate profile, exactly as published in
/// version 5.7 of its guidelines (2023-05-15, which appended
/// `TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256` to 5.6's list), in its order.
pub const MOZILLA_INTERMEDIATE_TLS12: [u16; 9] = [
    0xC02B, // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    0xC02F, // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    0xC02C, // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    0xC030, // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    0xCCA9, // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
    0xCCA8, // TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
    0x009E, // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
    0x009F, // TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
    0xCCAA, // TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256
];

/// The suite with this id, if it is in the table.
pub fn lookup(id: u16) -> Option<&'static Suite> {
    SUITES.iter().find(|suite| suite.id == id)
}

const fn s(id: u16, name: &'static str, key_exchange: KeyExchange, cipher: Cipher) -> Suite {
    Suite {
        id,
        name,
        key_exchange,
        cipher,
    }
}

use Cipher::*;
use KeyExchange::*;

/// Every suite the scan offers.
pub const SUITES: &[Suite] = &[
    s(0x0001, "TLS_RSA_WITH_NULL_MD5", Rsa, Null),
    s(0x0002, "TLS_RSA_WITH_NULL_SHA", Rsa, Null),
    s(0x003B, "TLS_RSA_WITH_NULL_SHA256", Rsa, Null),
    s(0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", Rsa, Export),
    s(0x0004, "TLS_RSA_WITH_RC4_128_MD5", Rsa, Rc4),
    s(0x0005, "TLS_RSA_WITH_RC4_128_SHA", Rsa, Rc4),
    s(0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", Rsa, Export),
    s(0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA", Rsa, Idea),
    s(0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", Rsa, Export),
    s(0x0009, "TLS_RSA_WITH_DES_CBC_SHA", Rsa, Des),
    s(0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", Rsa, TripleDes),
    s(0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", Rsa, AesCbc),
    s(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", Rsa, AesCbc),
    s(0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", Rsa, AesCbc),
    s(0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", Rsa, AesCbc),
    s(0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", Rsa, Camellia),
    s(0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", Rsa, Camellia),
    s(0x0096, "TLS_RSA_WITH_SEED_CBC_SHA", Rsa, Seed),
    s(0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", Rsa, AesGcm),
    s(0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", Rsa, AesGcm),
    s(
        0x00BA,
        "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256",
        Rsa,
        Camellia,
    ),
    s(
        0x00C0,
        "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256",
        Rsa,
        Camellia,
    ),
    s(0xC09C, "TLS_RSA_WITH_AES_128_CCM", Rsa, AesCcm),
    s(0xC09D, "TLS_RSA_WITH_AES_256_CCM", Rsa, AesCcm),
    s(0xC0A0, "TLS_RSA_WITH_AES_128_CCM_8", Rsa, AesCcm),
    s(0xC0A1, "TLS_RSA_WITH_AES_256_CCM_8", Rsa, AesCcm),
    s(0xC03C, "TLS_RSA_WITH_ARIA_128_CBC_SHA256", Rsa, Aria),
    s(0xC03D, "TLS_RSA_WITH_ARIA_256_CBC_SHA384", Rsa, Aria),
    s(0xC050, "TLS_RSA_WITH_ARIA_128_GCM_SHA256", Rsa, Aria),
    s(0xC051, "TLS_RSA_WITH_ARIA_256_GCM_SHA384", Rsa, Aria),
    s(
        0x000D,
        "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA",
        DhStatic,
        TripleDes,
    ),
    s(
        0x0010,
        "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA",
        DhStatic,
        TripleDes,
    ),
    s(0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA", DhStatic, AesCbc),
    s(0x0031, "TLS_DH_RSA_WITH_AES_128_CBC_SHA", DhStatic, AesCbc),
    s(0x0036, "TLS_DH_DSS_WITH_AES_256_CBC_SHA", DhStatic, AesCbc),
    s(0x0037, "TLS_DH_RSA_WITH_AES_256_CBC_SHA", DhStatic, AesCbc),
    s(
        0x00A0,
        "TLS_DH_RSA_WITH_AES_128_GCM_SHA256",
        DhStatic,
        AesGcm,
    ),
    s(
        0x00A1,
        "TLS_DH_RSA_WITH_AES_256_GCM_SHA384",
        DhStatic,
        AesGcm,
    ),
    s(0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", Dhe, Export),
    s(0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA", Dhe, Des),
    s(0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", Dhe, TripleDes),
    s(0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", Dhe, Export),
    s(0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA", Dhe, Des),
    s(0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", Dhe, TripleDes),
    s(0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", Dhe, AesCbc),
    s(0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", Dhe, AesCbc),
    s(0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", Dhe, AesCbc),
    s(0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", Dhe, AesCbc),
    s(0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", Dhe, AesCbc),
    s(0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", Dhe, AesCbc),
    s(0x006A, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", Dhe, AesCbc),
    s(0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", Dhe, AesCbc),
    s(
        0x0045,
        "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA",
        Dhe,
        Camellia,
    ),
    s(
        0x0088,
        "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA",
        Dhe,
        Camellia,
    ),
    s(0x009A, "TLS_DHE_RSA_WITH_SEED_CBC_SHA", Dhe, Seed),
    s(0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", Dhe, AesGcm),
    s(0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", Dhe, AesGcm),
    s(0x00A2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", Dhe, AesGcm),
    s(0x00A3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", Dhe, AesGcm),
    s(
        0x00BE,
        "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
        Dhe,
        Camellia,
    ),
    s(
        0x00C4,
        "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256",
        Dhe,
        Camellia,
    ),
    s(0xC09E, "TLS_DHE_RSA_WITH_AES_128_CCM", Dhe, AesCcm),
    s(0xC09F, "TLS_DHE_RSA_WITH_AES_256_CCM", Dhe, AesCcm),
    s(0xC0A2, "TLS_DHE_RSA_WITH_AES_128_CCM_8", Dhe, AesCcm),
    s(0xC0A3, "TLS_DHE_RSA_WITH_AES_256_CCM_8", Dhe, AesCcm),
    s(0xC044, "TLS_DHE_RSA_WITH_ARIA_128_CBC_SHA256", Dhe, Aria),
    s(0xC045, "TLS_DHE_RSA_WITH_ARIA_256_CBC_SHA384", Dhe, Aria),
    s(0xC052, "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256", Dhe, Aria),
    s(0xC053, "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384", Dhe, Aria),
    s(
        0xCCAA,
        "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        Dhe,
        Chacha20,
    ),
    s(0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", AnonDh, Export),
    s(0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", AnonDh, Rc4),
    s(
        0x0019,
        "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA",
        AnonDh,
        Export,
    ),
    s(0x001A, "TLS_DH_anon_WITH_DES_CBC_SHA", AnonDh, Des),
    s(
        0x001B,
        "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA",
        AnonDh,
        TripleDes,
    ),
    s(0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", AnonDh, AesCbc),
    s(0x003A, "TLS_DH_anon_WITH_AES_256_CBC_SHA", AnonDh, AesCbc),
    s(
        0x006C,
        "TLS_DH_anon_WITH_AES_128_CBC_SHA256",
        AnonDh,
        AesCbc,
    ),
    s(
        0x006D,
        "TLS_DH_anon_WITH_AES_256_CBC_SHA256",
        AnonDh,
        AesCbc,
    ),
    s(
        0x00A6,
        "TLS_DH_anon_WITH_AES_128_GCM_SHA256",
        AnonDh,
        AesGcm,
    ),
    s(
        0x00A7,
        "TLS_DH_anon_WITH_AES_256_GCM_SHA384",
        AnonDh,
        AesGcm,
    ),
    s(
        0x0046,
        "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA",
        AnonDh,
        Camellia,
    ),
    s(
        0x0089,
        "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA",
        AnonDh,
        Camellia,
    ),
    s(0x009B, "TLS_DH_anon_WITH_SEED_CBC_SHA", AnonDh, Seed),
    s(0xC001, "TLS_ECDH_ECDSA_WITH_NULL_SHA", EcdhStatic, Null),
    s(0xC002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA", EcdhStatic, Rc4),
    s(
        0xC003,
        "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",
        EcdhStatic,
        TripleDes,
    ),
    s(
        0xC004,
        "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA",
        EcdhStatic,
        AesCbc,
    ),
    s(
        0xC005,
        "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA",
        EcdhStatic,
        AesCbc,
    ),
    s(
        0xC00E,
        "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA",
        EcdhStatic,
        AesCbc,
    ),
    s(
        0xC00F,
        "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA",
        EcdhStatic,
        AesCbc,
    ),
    s(
        0xC02D,
        "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256",
        EcdhStatic,
        AesGcm,
    ),
    s(
        0xC02E,
        "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384",
        EcdhStatic,
        AesGcm,
    ),
    s(
        0xC031,
        "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",
        EcdhStatic,
        AesGcm,
    ),
    s(
        0xC032,
        "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384",
        EcdhStatic,
        AesGcm,
    ),
    s(0xC006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA", Ecdhe, Null),
    s(0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", Ecdhe, Rc4),
    s(
        0xC008,
        "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
        Ecdhe,
        TripleDes,
    ),
    s(
        0xC009,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        Ecdhe,
        AesCbc,
    ),
    s(
        0xC00A,
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        Ecdhe,
        AesCbc,
    ),
    s(
        0xC023,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        Ecdhe,
        AesCbc,
    ),
    s(
        0xC024,
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        Ecdhe,
        AesCbc,
    ),
    s(
        0xC02B,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        Ecdhe,
        AesGcm,
    ),
    s(
        0xC02C,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        Ecdhe,
        AesGcm,
    ),
    s(
        0xC072,
        "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",
        Ecdhe,
        Camellia,
    ),
    s(
        0xC073,
        "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",
        Ecdhe,
        Camellia,
    ),
    s(0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", Ecdhe, AesCcm),
    s(0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", Ecdhe, AesCcm),
    s(0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", Ecdhe, AesCcm),
    s(0xC0AF, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", Ecdhe, AesCcm),
    s(
        0xC048,
        "TLS_ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256",
        Ecdhe,
        Aria,
    ),
    s(
        0xC049,
        "TLS_ECDHE_ECDSA_WITH_ARIA_256_CBC_SHA384",
        Ecdhe,
        Aria,
    ),
    s(
        0xC05C,
        "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256",
        Ecdhe,
        Aria,
    ),
    s(
        0xC05D,
        "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384",
        Ecdhe,
        Aria,
    ),
    s(
        0xCCA9,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        Ecdhe,
        Chacha20,
    ),
    s(0xC010, "TLS_ECDHE_RSA_WITH_NULL_SHA", Ecdhe, Null),
    s(0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", Ecdhe, Rc4),
    s(
        0xC012,
        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        Ecdhe,
        TripleDes,
    ),
    s(0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", Ecdhe, AesCbc),
    s(0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", Ecdhe, AesCbc),
    s(
        0xC027,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        Ecdhe,
        AesCbc,
    ),
    s(
        0xC028,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        Ecdhe,
        AesCbc,
    ),
    s(
        0xC02F,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        Ecdhe,
        AesGcm,
    ),
    s(
        0xC030,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        Ecdhe,
        AesGcm,
    ),
    s(
        0xC076,
        "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
        Ecdhe,
        Camellia,
    ),
    s(
        0xC077,
        "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384",
        Ecdhe,
        Camellia,
    ),
    s(
        0xC04C,
        "TLS_ECDHE_RSA_WITH_ARIA_128_CBC_SHA256",
        Ecdhe,
        Aria,
    ),
    s(
        0xC04D,
        "TLS_ECDHE_RSA_WITH_ARIA_256_CBC_SHA384",
        Ecdhe,
        Aria,
    ),
    s(
        0xC060,
        "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256",
        Ecdhe,
        Aria,
    ),
    s(
        0xC061,
        "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384",
        Ecdhe,
        Aria,
    ),
    s(
        0xCCA8,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        Ecdhe,
        Chacha20,
    ),
    s(0xC015, "TLS_ECDH_anon_WITH_NULL_SHA", AnonEcdh, Null),
    s(0xC016, "TLS_ECDH_anon_WITH_RC4_128_SHA", AnonEcdh, Rc4),
    s(
        0xC017,
        "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA",
        AnonEcdh,
        TripleDes,
    ),
    s(
        0xC018,
        "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
        AnonEcdh,
        AesCbc,
    ),
    s(
        0xC019,
        "TLS_ECDH_anon_WITH_AES_256_CBC_SHA",
        AnonEcdh,
        AesCbc,
    ), // The rest of what OpenSSL negotiates at TLS 1.0–1.2: DSS-authenticated DHE with
    // Camellia and ARIA, anonymous DH with Camellia-SHA256, and the PSK and SRP suites
    // (a server with a PSK or SRP callback picks them from the ClientHello alone).
    s(0x002C, "TLS_PSK_WITH_NULL_SHA", Psk, Null),
    s(0x002D, "TLS_DHE_PSK_WITH_NULL_SHA", DhePsk, Null),
    s(0x002E, "TLS_RSA_PSK_WITH_NULL_SHA", RsaPsk, Null),
    s(
        0x0044,
        "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA",
        Dhe,
        Camellia,
    ),
    s(
        0x0087,
        "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA",
        Dhe,
        Camellia,
    ),
    s(0x008C, "TLS_PSK_WITH_AES_128_CBC_SHA", Psk, AesCbc),
    s(0x008D, "TLS_PSK_WITH_AES_256_CBC_SHA", Psk, AesCbc),
    s(0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA", DhePsk, AesCbc),
    s(0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA", DhePsk, AesCbc),
    s(0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA", RsaPsk, AesCbc),
    s(0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA", RsaPsk, AesCbc),
    s(0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256", Psk, AesGcm),
    s(0x00A9, "TLS_PSK_WITH_AES_256_GCM_SHA384", Psk, AesGcm),
    s(
        0x00AA,
        "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256",
        DhePsk,
        AesGcm,
    ),
    s(
        0x00AB,
        "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384",
        DhePsk,
        AesGcm,
    ),
    s(
        0x00AC,
        "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256",
        RsaPsk,
        AesGcm,
    ),
    s(
        0x00AD,
        "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384",
        RsaPsk,
        AesGcm,
    ),
    s(0x00AE, "TLS_PSK_WITH_AES_128_CBC_SHA256", Psk, AesCbc),
    s(0x00AF, "TLS_PSK_WITH_AES_256_CBC_SHA384", Psk, AesCbc),
    s(0x00B0, "TLS_PSK_WITH_NULL_SHA256", Psk, Null),
    s(0x00B1, "TLS_PSK_WITH_NULL_SHA384", Psk, Null),
    s(
        0x00B2,
        "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256",
        DhePsk,
        AesCbc,
    ),
    s(
        0x00B3,
        "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384",
        DhePsk,
        AesCbc,
    ),
    s(0x00B4, "TLS_DHE_PSK_WITH_NULL_SHA256", DhePsk, Null),
    s(0x00B5, "TLS_DHE_PSK_WITH_NULL_SHA384", DhePsk, Null),
    s(
        0x00B6,
        "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256",
        RsaPsk,
        AesCbc,
    ),
    s(
        0x00B7,
        "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384",
        RsaPsk,
        AesCbc,
    ),
    s(0x00B8, "TLS_RSA_PSK_WITH_NULL_SHA256", RsaPsk, Null),
    s(0x00B9, "TLS_RSA_PSK_WITH_NULL_SHA384", RsaPsk, Null),
    s(
        0x00BD,
        "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256",
        Dhe,
        Camellia,
    ),
    s(
        0x00BF,
        "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256",
        AnonDh,
        Camellia,
    ),
    s(
        0x00C3,
        "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256",
        Dhe,
        Camellia,
    ),
    s(
        0x00C5,
        "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256",
        AnonDh,
        Camellia,
    ),
    s(0xC01D, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA", Srp, AesCbc),
    s(0xC01E, "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA", Srp, AesCbc),
    s(0xC01F, "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA", Srp, AesCbc),
    s(0xC020, "TLS_SRP_SHA_WITH_AES_256_CBC_SHA", Srp, AesCbc),
    s(0xC021, "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA", Srp, AesCbc),
    s(0xC022, "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA", Srp, AesCbc),
    s(
        0xC035,
        "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA",
        EcdhePsk,
        AesCbc,
    ),
    s(
        0xC036,
        "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA",
        EcdhePsk,
        AesCbc,
    ),
    s(
        0xC037,
        "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
        EcdhePsk,
        AesCbc,
    ),
    s(
        0xC038,
        "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384",
        EcdhePsk,
        AesCbc,
    ),
    s(0xC039, "TLS_ECDHE_PSK_WITH_NULL_SHA", EcdhePsk, Null),
    s(0xC03A, "TLS_ECDHE_PSK_WITH_NULL_SHA256", EcdhePsk, Null),
    s(0xC03B, "TLS_ECDHE_PSK_WITH_NULL_SHA384", EcdhePsk, Null),
    s(0xC056, "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256", Dhe, Aria),
    s(0xC057, "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384", Dhe, Aria),
    s(0xC06A, "TLS_PSK_WITH_ARIA_128_GCM_SHA256", Psk, Aria),
    s(0xC06B, "TLS_PSK_WITH_ARIA_256_GCM_SHA384", Psk, Aria),
    s(0xC06C, "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256", DhePsk, Aria),
    s(0xC06D, "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384", DhePsk, Aria),
    s(0xC06E, "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256", RsaPsk, Aria),
    s(0xC06F, "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384", RsaPsk, Aria),
    s(
        0xC094,
        "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256",
        Psk,
        Camellia,
    ),
    s(
        0xC095,
        "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384",
        Psk,
        Camellia,
    ),
    s(
        0xC096,
        "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",
        DhePsk,
        Camellia,
    ),
    s(
        0xC097,
        "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",
        DhePsk,
        Camellia,
    ),
    s(
        0xC098,
        "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256",
        RsaPsk,
        Camellia,
    ),
    s(
        0xC099,
        "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384",
        RsaPsk,
        Camellia,
    ),
    s(
        0xC09A,
        "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",
        EcdhePsk,
        Camellia,
    ),
    s(
        0xC09B,
        "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",
        EcdhePsk,
        Camellia,
    ),
    s(0xC0A4, "TLS_PSK_WITH_AES_128_CCM", Psk, AesCcm),
    s(0xC0A5, "TLS_PSK_WITH_AES_256_CCM", Psk, AesCcm),
    s(0xC0A6, "TLS_DHE_PSK_WITH_AES_128_CCM", DhePsk, AesCcm),
    s(0xC0A7, "TLS_DHE_PSK_WITH_AES_256_CCM", DhePsk, AesCcm),
    s(0xC0A8, "TLS_PSK_WITH_AES_128_CCM_8", Psk, AesCcm),
    s(0xC0A9, "TLS_PSK_WITH_AES_256_CCM_8", Psk, AesCcm),
    s(0xC0AA, "TLS_PSK_DHE_WITH_AES_128_CCM_8", DhePsk, AesCcm),
    s(0xC0AB, "TLS_PSK_DHE_WITH_AES_256_CCM_8", DhePsk, AesCcm),
    s(
        0xCCAB,
        "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
        Psk,
        Chacha20,
    ),
    s(
        0xCCAC,
        "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
        EcdhePsk,
        Chacha20,
    ),
    s(
        0xCCAD,
        "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
        DhePsk,
        Chacha20,
    ),
    s(
        0xCCAE,
        "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256",
        RsaPsk,
        Chacha20,
    ),
];

#[cfg(test)]
mod tests {
    use crate::tls_probe::suites::*;

    #[test]
    fn ids_are_unique_and_names_agree_with_the_classes() {
        for (i, suite) in SUITES.iter().enumerate() {
            assert!(
                SUITES[i + 1..].iter().all(|other| other.id != suite.id),
                "{} twice",
                suite.name
            );
            let name = suite.name;
            assert_eq!(
                name.contains("_anon_"),
                suite.key_exchange.is_anonymous(),
                "{name}"
            );
            assert_eq!(name.contains("NULL"), suite.cipher == Null, "{name}");
            assert_eq!(
                name.contains("RC4") && !name.contains("EXPORT"),
                suite.cipher == Rc4,
                "{name}"
            );
            assert_eq!(name.contains("3DES"), suite.cipher == TripleDes, "{name}");
            assert_eq!(
                ["TLS_ECDHE_", "TLS_DHE_", "TLS_PSK_DHE_"]
                    .iter()
                    .any(|prefix| name.starts_with(prefix)),
                suite.key_exchange.is_forward_secret(),
                "{name}"
            );
            assert_eq!(
                name.contains("PSK"),
                matches!(suite.key_exchange, Psk | DhePsk | EcdhePsk | RsaPsk),
                "{name}"
            );
            assert_eq!(name.contains("_SRP_"), suite.key_exchange == Srp, "{name}");
        }
        for id in MOZILLA_INTERMEDIATE_TLS12 {
            let suite = lookup(id).unwrap();
            assert!(suite.key_exchange.is_forward_secret() && suite.weakness().is_none());
        }
    }

    #[test]
    fn mozilla_intermediate_is_the_published_v5_7_list() {
        let names = MOZILLA_INTERMEDIATE_TLS12.map(|id| lookup(id).unwrap().name);
        assert_eq!(
            names,
            [
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            ]
        );
    }

    #[test]
    fn weak_classes() {
        let weak = |id| lookup(id).unwrap().weakness();
        assert_eq!(weak(0x003B), Some("NULL cipher: no encryption"));
        assert_eq!(weak(0x0003), Some("EXPORT grade: 40/56-bit keys"));
        assert_eq!(weak(0x0005), Some("RC4: broken stream cipher (RFC 7465)"));
        assert_eq!(weak(0x000A), Some("3DES: 64-bit block (Sweet32)"));
        assert_eq!(
            weak(0x00A6),
            Some("anonymous: the server is not authenticated")
        );
        assert_eq!(weak(0xC02F), None);
        assert_eq!(weak(0x002F), None);
        assert!(!lookup(0x002F).unwrap().key_exchange.is_forward_secret());
        assert!(lookup(0xC02F).unwrap().mozilla_intermediate());
        assert!(!lookup(0xC013).unwrap().mozilla_intermediate());
    }
}
