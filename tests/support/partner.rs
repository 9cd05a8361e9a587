//! Shared test helper: wiremock partners several test files need.

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Makes `server` answer its first `times` POSTs with `status`, and 200 after that.
pub async fn fails_then_accepts(server: &MockServer, status: u16, times: u64) {
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status))
        .up_to_n_times(times)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(server)
        .await;
}
