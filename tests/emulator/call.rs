//! One incoming HTTP request, read off the socket and decoded into what the handlers need:
//! path, query and form parameters, headers, the JSON body, and the SigV4 access key id.
//!
//! It only decodes; it does not decide what the request means.

pub struct Call {
    pub method: String,
    pub path: String,
    query: Vec<(String, String)>,
    /// Header names are lower-cased: HTTP header names are case-insensitive.
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Form parameters of a `application/x-www-form-urlencoded` body (awsQuery).
    form: Vec<(String, String)>,
    /// Echoed in `x-amzn-RequestId` and in STS XML bodies.
    pub request_id: String,
}

impl Call {
    pub fn read(request: &mut tiny_http::Request, request_id: String) -> Call {
        let (path, query) = match request.url().split_once('?') {
            Some((path, query)) => (path.to_string(), parse_pairs(query)),
            None => (request.url().to_string(), Vec::new()),
        };
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_ascii_lowercase(),
                    h.value.as_str().to_string(),
                )
            })
            .collect();
        let mut body = Vec::new();
        // A client that hangs up mid-body leaves a short body; the handler then rejects it.
        let _ = request.as_reader().read_to_end(&mut body);
        let is_form = headers.iter().any(|(name, value)| {
            name == "content-type" && value.starts_with("application/x-www-form-urlencoded")
        });
        let form = if is_form {
            parse_pairs(&String::from_utf8_lossy(&body))
        } else {
            Vec::new()
        };
        Call {
            method: request.method().as_str().to_string(),
            path,
            query,
            headers,
            body,
            form,
            request_id,
        }
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        lookup(&self.query, name)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        lookup(&self.headers, &name.to_ascii_lowercase())
    }

    /// An awsQuery parameter. STS also takes parameters in the query string, so look there too.
    pub fn param(&self, name: &str) -> Option<&str> {
        lookup(&self.form, name).or_else(|| self.query(name))
    }

    /// A JSON object body; `None` if the body is not one.
    pub fn json(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        match serde_json::from_slice(&self.body) {
            Ok(serde_json::Value::Object(map)) => Some(map),
            _ => None,
        }
    }

    /// The access key id from a SigV4 `Authorization` header
    /// (`AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ...`).
    /// The signature itself is not checked: the emulator only needs to know who is calling.
    pub fn access_key_id(&self) -> Option<&str> {
        let auth = self.header("authorization")?;
        let credential = auth.split_once("Credential=")?.1;
        let key = credential.split('/').next()?;
        (!key.is_empty()).then_some(key)
    }

    /// The base URL the client used to reach us, so links we hand out work through any address.
    pub fn base_url(&self, fallback: &str) -> String {
        match self.header("host") {
            Some(host) => format!("http://{host}"),
            None => fallback.to_string(),
        }
    }
}

fn lookup<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Parses `a=1&b=two%20words` (query strings and form bodies alike; `+` is a space in both).
pub fn parse_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_forms_and_queries() {
        let pairs = parse_pairs(
            "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx&N=a+b&bad=%zz&end=%4",
        );
        assert_eq!(lookup(&pairs, "RoleArn"), Some("arn:aws:iam::1:role/x"));
        assert_eq!(lookup(&pairs, "N"), Some("a b"));
        assert_eq!(lookup(&pairs, "bad"), Some("%zz"));
        assert_eq!(lookup(&pairs, "end"), Some("%4"));
    }
}
