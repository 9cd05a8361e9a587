<?php
// A partner that verifies Spotnana's signature over json_encode(json_decode($body))
// instead of the raw body (what a handler that only keeps the decoded event signs).
// PHP's built-in server speaks no TLS, so this is a small HTTPS server on PHP's own
// TLS streams, one request per connection. Usage: php reserializer.php CERT KEY; the
// secret comes from SPOTNANA_WEBHOOK_SECRET. Prints the port it listens on
// (127.0.0.1), then answers 200 to a delivery that verifies and 401 to one that does not.

[$script, $cert, $key] = $argv;
$secret = getenv('SPOTNANA_WEBHOOK_SECRET');
$keyBytes = base64_decode(substr($secret, strlen('whsec_')), true);

function verifies(array $headers, string $raw, string $keyBytes): bool
{
    $id = $headers['x-spotnana-webhook-id'] ?? '';
    $timestamp = $headers['x-spotnana-webhook-timestamp'] ?? '';
    $header = $headers['x-spotnana-webhook-signature'] ?? '';
    if (abs(time() - (int) $timestamp) > 300) {
        return false;
    }
    $event = json_decode($raw);
    if ($event === null) {
        return false;
    }
    $body = json_encode($event);
    $expected = base64_encode(hash_hmac('sha256', $id . '.' . $timestamp . '.' . $body, $keyBytes, true));
    foreach (explode(' ', $header) as $t) {
        if (hash_equals($expected, preg_replace('/^v1,/', '', $t))) {
            return true;
        }
    }
    return false;
}

$context = stream_context_create(['ssl' => ['local_cert' => $cert, 'local_pk' => $key]]);
$server = stream_socket_server('tls://127.0.0.1:0', $errno, $errstr, STREAM_SERVER_BIND | STREAM_SERVER_LISTEN, $context);
if ($server === false) {
    fwrite(STDERR, "listen: $errstr\n");
    exit(2);
}
$name = stream_socket_get_name($server, false);
echo substr($name, strrpos($name, ':') + 1), "\n";
fflush(STDOUT);
while (true) {
    $conn = @stream_socket_accept($server, -1);
    if ($conn === false) {
        continue; // a failed handshake
    }
    $head = '';
    while (!str_contains($head, "\r\n\r\n") && ($line = fgets($conn)) !== false) {
        $head .= $line;
    }
    $headers = [];
    foreach (array_slice(explode("\r\n", trim($head)), 1) as $line) {
        [$name, $value] = array_pad(explode(':', $line, 2), 2, '');
        $headers[strtolower(trim($name))] = trim($value);
    }
    $length = (int) ($headers['content-length'] ?? 0);
    $raw = '';
    while (strlen($raw) < $length && !feof($conn)) {
        $raw .= fread($conn, $length - strlen($raw));
    }
    $status = verifies($headers, $raw, $keyBytes) ? '200 OK' : '401 Unauthorized';
    fwrite($conn, "HTTP/1.1 $status\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    fclose($conn);
}
