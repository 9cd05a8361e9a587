# Sourced by the load benchmarks: starts a loopback nginx on 127.0.0.1:$1 with its
# own configuration in a temporary directory (one worker process, no access log,
# `location /webhooks { return 200; }`, keep-alive connections never closed by a
# request count), waits until it accepts, and stops it (and removes the directory)
# when the calling script exits. Sets NGINX_DIR.
#
# Only ever listens on 127.0.0.1.

start_loopback_nginx() {
  local port=$1
  if ! command -v nginx >/dev/null 2>&1; then
    echo "nginx not found (Debian/Ubuntu: apt-get install nginx)" >&2
    exit 2
  fi
  NGINX_DIR=$(mktemp -d)
  cat > "$NGINX_DIR/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $NGINX_DIR/body;
  proxy_temp_path $NGINX_DIR/proxy;
  fastcgi_temp_path $NGINX_DIR/fastcgi;
  uwsgi_temp_path $NGINX_DIR/uwsgi;
  scgi_temp_path $NGINX_DIR/scgi;
  keepalive_requests 1000000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:$port;
    location /webhooks { return 200; }
  }
}
EOF
  nginx -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR" >"$NGINX_DIR/stdout.log" 2>&1 &
  NGINX_PID=$!
  trap 'kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; rm -rf "$NGINX_DIR"' EXIT
  for _ in $(seq 1 50); do
    (echo > "/dev/tcp/127.0.0.1/${port}") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nginx did not start on 127.0.0.1:${port}:" >&2
  cat "$NGINX_DIR/error.log" "$NGINX_DIR/stdout.log" >&2 || true
  exit 2
}
