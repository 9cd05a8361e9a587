//! The reference receiver: a correct Spotnana webhook endpoint.
