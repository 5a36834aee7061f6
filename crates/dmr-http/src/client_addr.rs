//! Who the client is, for rate limiting: the TCP peer, unless the peer is one of
//! `TRUSTED_PROXIES`; only then is `X-Forwarded-For` read, right to left, and the first
//! address that is not itself a trusted proxy is the client. A client cannot move itself
//! to a fresh budget by sending a header: an untrusted peer's header is never looked at.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;

/// IPv6 clients are keyed by their /56 prefix (what express-rate-limit 8 does): one
/// subscriber commonly holds a /56 or a /64, and could otherwise take a fresh budget per
/// address.
const IPV6_CLIENT_PREFIX: u32 = 56;

/// One `address/prefix` range; a bare address is a range of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u32,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked_v4(u32::from(ip), self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked_v6(u128::from(ip), self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

fn masked_v4(bits: u32, prefix: u32) -> u32 {
    if prefix == 0 {
        0
    } else {
        bits & (u32::MAX << (32 - prefix))
    }
}

fn masked_v6(bits: u128, prefix: u32) -> u128 {
    if prefix == 0 {
        0
    } else {
        bits & (u128::MAX << (128 - prefix))
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("{raw:?} is not an IP address or CIDR"))?;
        // An IPv4-mapped IPv6 address is the IPv4 address (peers are compared the same way).
        let address = address.to_canonical();
        let width = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u32>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| format!("{raw:?}: the prefix length must be 0-{width}"))?,
        };
        let network = match address {
            IpAddr::V4(v4) => IpAddr::from(masked_v4(u32::from(v4), prefix).to_be_bytes()),
            IpAddr::V6(v6) => IpAddr::from(masked_v6(u128::from(v6), prefix).to_be_bytes()),
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// `TRUSTED_PROXIES`: the proxies whose `X-Forwarded-For` is believed. Empty by default:
/// the socket's peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDRs (IPv4 and IPv6); empty means none.
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(Cidr::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|cidr| cidr.contains(ip))
    }

    /// The client's address: `peer`, or, when `peer` is trusted, the right-most
    /// `X-Forwarded-For` entry that is not a trusted proxy. An entry that is not an
    /// address stops the walk at the last trusted hop, which then stands for the client:
    /// garbage never earns a fresh budget.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if self.is_empty() || !self.contains(peer) {
            return peer;
        }
        let mut client = peer;
        // Several X-Forwarded-For lines are one list, in order; walk it from the right.
        for line in headers.get_all("x-forwarded-for").iter().rev() {
            let Ok(line) = line.to_str() else {
                return client;
            };
            for entry in line.rsplit(',') {
                let Some(ip) = parse_forwarded_entry(entry.trim()) else {
                    return client;
                };
                client = ip;
                if !self.contains(ip) {
                    return ip;
                }
            }
        }
        client
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_forwarded_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    entry
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|socket| socket.ip().to_canonical())
}

/// The rate limiter's key for a client address: IPv4 as is, IPv6 by its /56 prefix, both
/// in one 128-bit space (IPv4 as its mapped IPv6 form) so the key is a plain integer.
pub fn client_key(ip: IpAddr) -> u128 {
    match ip.to_canonical() {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => masked_v6(u128::from(v6), IPV6_CLIENT_PREFIX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append("x-forwarded-for", HeaderValue::from_str(line).unwrap());
        }
        headers
    }

    #[test]
    fn cidrs_parse_and_match_v4_and_v6() {
        let proxies = TrustedProxies::parse(" 10.0.0.0/8, 127.0.0.1 ,fd00::/8,::1").unwrap();
        assert!(proxies.contains(ip("10.200.3.4")));
        assert!(!proxies.contains(ip("11.0.0.1")));
        assert!(proxies.contains(ip("127.0.0.1")));
        assert!(!proxies.contains(ip("127.0.0.2")));
        assert!(proxies.contains(ip("fd12:3456::1")));
        assert!(!proxies.contains(ip("fe80::1")));
        assert!(proxies.contains(ip("::1")));
        // An IPv4 peer seen through a dual-stack socket.
        assert!(proxies.contains(ip("::ffff:10.1.2.3")));
        // Host bits in the network are ignored, as in every CIDR parser.
        let cidr: Cidr = "192.168.1.77/24".parse().unwrap();
        assert_eq!(cidr.to_string(), "192.168.1.0/24");
        assert!(cidr.contains(ip("192.168.1.1")));
        let everything: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(everything.contains(ip("8.8.8.8")));
        assert!(!everything.contains(ip("2001:db8::1")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }

    #[test]
    fn bad_cidrs_are_named() {
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "localhost",
            "10.0.0/8",
            "1.2.3.4/",
            "/8",
        ] {
            let error = TrustedProxies::parse(bad).unwrap_err();
            assert!(error.contains(bad), "{error}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let none = TrustedProxies::default();
        let headers = forwarded(&["6.6.6.6"]);
        assert_eq!(none.client_ip(ip("9.9.9.9"), &headers), ip("9.9.9.9"));
        let some = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(some.client_ip(ip("9.9.9.9"), &headers), ip("9.9.9.9"));
    }

    #[test]
    fn a_trusted_peer_forwards_the_rightmost_untrusted_address() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let peer = ip("10.0.0.1");
        // The client may prepend anything; the entry our proxy appended is the last one.
        let headers = forwarded(&["6.6.6.6, 1.2.3.4, 10.0.0.7"]);
        assert_eq!(proxies.client_ip(peer, &headers), ip("1.2.3.4"));
        // Several header lines are one list.
        let headers = forwarded(&["6.6.6.6", "1.2.3.4", "10.0.0.7"]);
        assert_eq!(proxies.client_ip(peer, &headers), ip("1.2.3.4"));
        // Ports and brackets, as some proxies write them.
        let headers = forwarded(&["[2001:db8::5]:443"]);
        assert_eq!(proxies.client_ip(peer, &headers), ip("2001:db8::5"));
        let headers = forwarded(&["1.2.3.4:5678"]);
        assert_eq!(proxies.client_ip(peer, &headers), ip("1.2.3.4"));
        // No header: the proxy itself.
        assert_eq!(proxies.client_ip(peer, &HeaderMap::new()), peer);
        // Every hop trusted: the left-most one.
        let headers = forwarded(&["10.9.9.9, 10.0.0.7"]);
        assert_eq!(proxies.client_ip(peer, &headers), ip("10.9.9.9"));
        // Garbage stops the walk at the last trusted hop.
        let headers = forwarded(&["1.2.3.4, nonsense, 10.0.0.7"]);
        assert_eq!(proxies.client_ip(peer, &headers), ip("10.0.0.7"));
        let headers = forwarded(&["nonsense"]);
        assert_eq!(proxies.client_ip(peer, &headers), peer);
    }

    #[test]
    fn ipv6_clients_share_their_56_prefix_and_ipv4_is_exact() {
        assert_eq!(
            client_key(ip("2001:db8:aa:bb01::1")),
            client_key(ip("2001:db8:aa:bbff:ffff::9"))
        );
        assert_ne!(
            client_key(ip("2001:db8:aa:bb00::1")),
            client_key(ip("2001:db8:aa:cc00::1"))
        );
        assert_ne!(client_key(ip("1.2.3.4")), client_key(ip("1.2.3.5")));
        assert_eq!(client_key(ip("1.2.3.4")), client_key(ip("::ffff:1.2.3.4")));
    }
}
