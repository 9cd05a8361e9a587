//! Body styles: the same JSON value written with different (valid) bytes.
