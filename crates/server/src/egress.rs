//! What the server may connect to on a caller's behalf (webhook receivers, an account's
//! model endpoint): never its own network, however the URL or its DNS is dressed up.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// What a URL is for, which decides the schemes and parts it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// A webhook receiver: https (plain http only where private networks are allowed);
    /// a query string is the receiver's business.
    Webhook,
    /// An account's model endpoint root (`llm.baseUrl`): http or https, and no query or
    /// fragment, since `/chat/completions` is appended and a `?` or `#` would swallow it.
    ModelEndpoint,
}

/// Whether nothing may be sent to `ip`: loopback, private (10/8, 172.16/12, 192.168/16),
/// carrier-grade NAT (100.64/10), link-local (which holds the cloud metadata address),
/// unique-local, unspecified, multicast, broadcast or reserved, including IPv6 forms that
/// embed or tunnel to an IPv4 address.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (b & 0xc0) == 64)
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b & 0xfe) == 18)
        || a >= 240
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_forbidden_v4(v4);
    }
    let s = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] & 0xfe00) == 0xfc00
        // Teredo (2001::/32) and local-use NAT64 (64:ff9b:1::/48) reach IPv4 hosts through
        // a relay or translator the server's network may run, whatever address they carry.
        || (s[0] == 0x2001 && s[1] == 0)
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
        // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the
        // IPv4 address they carry.
        || (s[..6] == [0; 6] && is_forbidden_v4(embedded_v4(s[6], s[7])))
        || (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && is_forbidden_v4(embedded_v4(s[6], s[7])))
        || (s[0] == 0x2002 && is_forbidden_v4(embedded_v4(s[1], s[2])))
}

const FORBIDDEN_ADDRESS: &str =
    "must not point at a loopback, private, link-local or otherwise internal address";

/// Parses a URL and checks what can be checked without DNS: the scheme, a query or
/// fragment where `destination` takes none, and an IP literal host. Returns the URL and its
/// host name when it is a name.
pub fn check_url_literal(
    text: &str,
    destination: Destination,
    allow_private: bool,
) -> Result<(reqwest::Url, Option<String>), String> {
    let url = reqwest::Url::parse(text).map_err(|err| format!("is not a valid URL ({err})"))?;
    match (destination, url.scheme()) {
        (_, "https") | (Destination::ModelEndpoint, "http") => {}
        (Destination::Webhook, "http") if allow_private => {}
        (Destination::Webhook, _) => return Err("must be an https:// URL".to_owned()),
        (Destination::ModelEndpoint, _) => return Err("must be an http or https URL".to_owned()),
    }
    if destination == Destination::ModelEndpoint
        && (url.query().is_some() || url.fragment().is_some())
    {
        return Err("must not have a query (?) or fragment (#)".to_owned());
    }
    let host = url.host_str().ok_or("must name a host")?.to_owned();
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        if !allow_private && is_forbidden_ip(ip) {
            return Err(FORBIDDEN_ADDRESS.to_owned());
        }
        return Ok((url, None));
    }
    Ok((url, Some(host)))
}

/// Checks a URL when it is registered: [`check_url_literal`], and a host that is not, and
/// does not resolve to, an internal address. A name that does not resolve now is accepted:
/// every connection through [`guarded_client`] resolves and checks it again.
pub async fn check_url(
    text: &str,
    destination: Destination,
    allow_private: bool,
) -> Result<reqwest::Url, String> {
    let (url, host) = check_url_literal(text, destination, allow_private)?;
    let Some(host) = host.filter(|_| !allow_private) else {
        return Ok(url);
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return Err(FORBIDDEN_ADDRESS.to_owned());
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::net::lookup_host((host.as_str(), port));
    if let Ok(Ok(addrs)) = tokio::time::timeout(Duration::from_secs(3), lookup).await {
        if let Some(bad) = addrs.map(|a| a.ip()).find(|ip| is_forbidden_ip(*ip)) {
            return Err(format!("{FORBIDDEN_ADDRESS} ({host} resolves to {bad})"));
        }
    }
    Ok(url)
}

/// A client for destinations a caller chose: it connects only to addresses it resolved and
/// checked itself, never follows a redirect (which could lead anywhere, past the check) and
/// never goes through a proxy (which would resolve the name instead). An IP literal host
/// skips the resolver, so callers check each URL with [`check_url_literal`] before sending.
pub fn guarded_client(
    builder: reqwest::ClientBuilder,
    allow_private: bool,
) -> reqwest::Result<reqwest::Client> {
    builder
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(CheckedResolver { allow_private }))
        .build()
}

/// The error a refused address gives inside reqwest's error chain.
#[derive(Debug)]
struct ForbiddenAddress(String);

impl std::fmt::Display for ForbiddenAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ForbiddenAddress {}

/// Resolves a host and refuses internal addresses. The client connects only to the
/// addresses returned here, so a name cannot pass the check and then resolve elsewhere
/// (DNS rebinding).
struct CheckedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_private {
                if let Some(bad) = addrs.iter().find(|a| is_forbidden_ip(a.ip())) {
                    let message = format!(
                        "refused to connect: {host} resolves to {}, an internal address",
                        bad.ip()
                    );
                    return Err(Box::new(ForbiddenAddress(message)) as _);
                }
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(text: &str) -> bool {
        is_forbidden_ip(text.parse().unwrap())
    }

    #[test]
    fn internal_addresses_are_forbidden_and_public_ones_are_not() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
        ] {
            assert!(forbidden(ip), "{ip} should be forbidden");
        }
        for ip in [
            "93.184.215.14",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!forbidden(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn teredo_and_local_use_nat64_are_forbidden_whatever_they_carry() {
        for ip in [
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:0:ffff:ffff:ffff:ffff:ffff:ffff",
            "64:ff9b:1::1",
            "64:ff9b:1::808:808",
            "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
        ] {
            assert!(forbidden(ip), "{ip} should be forbidden");
        }
        // Neighbours of those ranges are ordinary global addresses.
        for ip in [
            "2001:1::1",
            "2001:db9::1",
            "64:ff9b:2::1",
            "64:ff9b::808:808",
        ] {
            assert!(!forbidden(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn literal_urls_are_checked_without_dns() {
        let hook = Destination::Webhook;
        assert!(check_url_literal("http://93.184.215.14/hook", hook, false).is_err());
        assert!(check_url_literal("https://93.184.215.14/hook", hook, false).is_ok());
        assert!(check_url_literal("https://[::1]/hook", hook, false).is_err());
        assert!(check_url_literal("https://[2001::1]/hook", hook, false).is_err());
        assert!(check_url_literal("https://2130706433/hook", hook, false).is_err());
        assert!(check_url_literal("ftp://example.com/", hook, true).is_err());
        assert!(check_url_literal("http://127.0.0.1:9/hook", hook, true).is_ok());
        assert!(check_url_literal("https://example.com/hook?t=1", hook, false).is_ok());
        assert!(check_url_literal("not a url", hook, true).is_err());
    }

    #[test]
    fn a_model_endpoint_takes_http_but_no_query_or_fragment() {
        let model = Destination::ModelEndpoint;
        assert!(check_url_literal("http://93.184.215.14/v1", model, false).is_ok());
        assert!(check_url_literal("http://169.254.169.254/v1", model, false).is_err());
        assert!(check_url_literal("http://127.0.0.1:9/v1", model, true).is_ok());
        for text in [
            "https://example.com/v1?x=1",
            "https://example.com/v1?",
            "https://example.com/v1#frag",
            "http://127.0.0.1:9/v1#",
        ] {
            assert!(check_url_literal(text, model, true).is_err(), "{text}");
        }
        assert!(check_url_literal("ftp://example.com/v1", model, true).is_err());
    }
}
