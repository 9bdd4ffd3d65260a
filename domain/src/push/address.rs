//! Where a client-chosen push endpoint may lead. A Web Push endpoint is a URL the
//! client picked; sending to it from inside the deployment must not reach the
//! deployment's own network. Every resolved address is classified here, before a
//! connection is opened, and only public ones are contacted (loopback too when the
//! tests' flag allows it).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What an address reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The internet.
    Public,
    /// This host: 127.0.0.0/8, ::1.
    Loopback,
    /// RFC 1918: 10/8, 172.16/12, 192.168/16.
    Private,
    /// 169.254/16, fe80::/10.
    LinkLocal,
    /// fc00::/7 (and the deprecated site-local fec0::/10).
    UniqueLocal,
    /// Unspecified, broadcast, multicast, shared (100.64/10), documentation,
    /// benchmarking and reserved ranges: nothing a push service lives on.
    NotRoutable,
}

/// Classifies `ip`. An IPv6 address that carries an IPv4 one (mapped `::ffff:a.b.c.d`,
/// compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is judged by the
/// IPv4 address it reaches.
pub fn reach(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(v4) => reach_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => reach_v4(v4),
            None => reach_v6(v6),
        },
    }
}

/// Whether a push may be sent to `ip`.
pub fn may_send_to(ip: IpAddr, allow_loopback: bool) -> bool {
    match reach(ip) {
        Reach::Public => true,
        Reach::Loopback => allow_loopback,
        _ => false,
    }
}

/// The reach of a URL's host when it is a literal address (or `localhost`); `None`
/// for a name, which is judged once resolved.
pub(crate) fn reach_of_host(host: &url::Host<&str>) -> Option<Reach> {
    match host {
        url::Host::Ipv4(v4) => Some(reach(IpAddr::V4(*v4))),
        url::Host::Ipv6(v6) => Some(reach(IpAddr::V6(*v6))),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost")).then_some(Reach::Loopback)
        }
    }
}

fn reach_v4(ip: Ipv4Addr) -> Reach {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        Reach::Loopback
    } else if ip.is_private() {
        Reach::Private
    } else if ip.is_link_local() {
        Reach::LinkLocal
    } else if a == 0
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || (a == 192 && b == 0 && c == 0)
    {
        Reach::NotRoutable
    } else {
        Reach::Public
    }
}

fn reach_v6(ip: Ipv6Addr) -> Reach {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Reach::Loopback
    } else if first & 0xffc0 == 0xfe80 {
        Reach::LinkLocal
    } else if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 {
        Reach::UniqueLocal
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || first == 0x2001 && ip.segments()[1] == 0x0db8
    {
        Reach::NotRoutable
    } else {
        Reach::Public
    }
}

/// The IPv4 address inside `ip`, for the forms that route to one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        Some(v4)
    } else if (s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified())
        || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
    {
        Some(low())
    } else if s[0] == 0x2002 {
        Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Reach {
        reach(text.parse().expect("an address"))
    }

    #[test]
    fn private_ranges_are_private() {
        for ip in [
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
        ] {
            assert_eq!(of(ip), Reach::Private, "{ip}");
        }
        for ip in ["172.15.255.255", "172.32.0.1", "11.0.0.1", "192.169.0.1"] {
            assert_eq!(of(ip), Reach::Public, "{ip}");
        }
    }

    #[test]
    fn loopback_link_local_and_unique_local() {
        assert_eq!(of("127.0.0.1"), Reach::Loopback);
        assert_eq!(of("127.255.0.9"), Reach::Loopback);
        assert_eq!(of("::1"), Reach::Loopback);
        assert_eq!(of("169.254.169.254"), Reach::LinkLocal);
        assert_eq!(of("fe80::1"), Reach::LinkLocal);
        assert_eq!(of("febf::1"), Reach::LinkLocal);
        assert_eq!(of("fc00::1"), Reach::UniqueLocal);
        assert_eq!(of("fd12:3456::1"), Reach::UniqueLocal);
        assert_eq!(of("2001:4860::8888"), Reach::Public);
    }

    #[test]
    fn addresses_that_carry_ipv4_are_judged_by_it() {
        assert_eq!(of("::ffff:127.0.0.1"), Reach::Loopback);
        assert_eq!(of("::ffff:10.1.2.3"), Reach::Private);
        assert_eq!(of("::ffff:169.254.169.254"), Reach::LinkLocal);
        assert_eq!(of("::10.1.2.3"), Reach::Private);
        assert_eq!(of("64:ff9b::c0a8:101"), Reach::Private);
        assert_eq!(of("2002:7f00:1::"), Reach::Loopback);
        assert_eq!(of("::ffff:8.8.8.8"), Reach::Public);
    }

    #[test]
    fn unroutable_ranges_are_refused() {
        for ip in [
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "100.64.0.1",
            "198.18.0.1",
            "240.0.0.1",
            "192.0.2.1",
            "::",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert_eq!(of(ip), Reach::NotRoutable, "{ip}");
        }
    }

    #[test]
    fn only_public_addresses_may_be_sent_to_unless_loopback_is_allowed() {
        let ip = |t: &str| t.parse::<IpAddr>().expect("an address");
        assert!(may_send_to(ip("93.184.216.34"), false));
        assert!(!may_send_to(ip("127.0.0.1"), false));
        assert!(may_send_to(ip("127.0.0.1"), true));
        assert!(may_send_to(ip("::1"), true));
        assert!(!may_send_to(ip("10.0.0.1"), true));
        assert!(!may_send_to(ip("fd00::1"), true));
        assert!(!may_send_to(ip("::ffff:192.168.0.1"), true));
    }
}
