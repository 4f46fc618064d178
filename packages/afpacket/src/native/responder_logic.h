// Pure decision logic of the native L2 responder (no sockets, no Node-API): given one received
// frame, decide whether it is an ARP request / neighbour solicitation we must answer, and write the
// reply. Every length is checked before it is read; a malformed frame is counted, never answered.
#pragma once
#include <stdint.h>
#include <string.h>

#include <atomic>
#include <string>
#include <unordered_map>
#include <vector>

constexpr size_t kMaxReply = 96;

/** Entry states: 1 = owned (answer everything valid), 2 = draining (answer unicast only). */
constexpr uint8_t kOff = 0, kActive = 1, kDraining = 2;

struct Key16 {
  uint64_t a, b;
  bool operator==(const Key16& o) const { return a == o.a && b == o.b; }
};
struct Key16Hash {
  size_t operator()(const Key16& k) const { return std::hash<uint64_t>()(k.a * 0x9e3779b97f4a7c15ULL ^ k.b); }
};

struct ResponderStats {
  std::atomic<uint64_t> received{0}, replied{0}, ignored{0}, notOwned{0}, malformed{0};
  std::atomic<uint64_t> drainReplied{0}, drainIgnored{0}, wrongGroup{0}, sendErrors{0};
};

struct Entry {
  uint8_t state;
  uint32_t hits;  // replies sent since the last TakeHits
};

class ResponderLogic {
 public:
  bool v6 = false;
  uint8_t mac[6] = {0};
  ResponderStats stats;
  std::string lastMalformed;

  void Set(const uint8_t* key, uint8_t state) {
    if (v6) {
      Key16 k = K16(key);
      if (state == kOff) t6_.erase(k);
      else t6_[k].state = state;
    } else {
      uint32_t k = K4(key);
      if (state == kOff) t4_.erase(k);
      else t4_[k].state = state;
    }
  }

  /** Appends (key, hits) of every entry answered since the last call to `keys`/`counts`, and resets them. */
  void TakeHits(std::string& keys, std::vector<uint32_t>& counts) {
    if (v6) {
      for (auto& kv : t6_)
        if (kv.second.hits) {
          keys.append(reinterpret_cast<const char*>(&kv.first.a), 8);
          keys.append(reinterpret_cast<const char*>(&kv.first.b), 8);
          counts.push_back(kv.second.hits);
          kv.second.hits = 0;
        }
    } else {
      for (auto& kv : t4_)
        if (kv.second.hits) {
          uint8_t b[4] = {uint8_t(kv.first >> 24), uint8_t(kv.first >> 16), uint8_t(kv.first >> 8), uint8_t(kv.first)};
          keys.append(reinterpret_cast<const char*>(b), 4);
          counts.push_back(kv.second.hits);
          kv.second.hits = 0;
        }
    }
  }
  void Clear() {
    t4_.clear();
    t6_.clear();
  }
  size_t Size() const { return v6 ? t6_.size() : t4_.size(); }

  /** Returns the reply length written to `out` (0: no reply). `pkttype` is sll_pkttype. */
  size_t Handle(const uint8_t* f, size_t n, uint8_t pkttype, uint8_t* out) {
    stats.received.fetch_add(1, std::memory_order_relaxed);
    if (pkttype == 4 /* PACKET_OUTGOING */) return Ignore();
    return v6 ? HandleNs(f, n, pkttype, out) : HandleArp(f, n, pkttype, out);
  }

 private:
  std::unordered_map<uint32_t, Entry> t4_;
  std::unordered_map<Key16, Entry, Key16Hash> t6_;

  static uint32_t K4(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
  static Key16 K16(const uint8_t* p) {
    Key16 k;
    memcpy(&k.a, p, 8);
    memcpy(&k.b, p + 8, 8);
    return k;
  }
  static uint16_t U16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
  static bool IsBcast(const uint8_t* m) { return (m[0] & m[1] & m[2] & m[3] & m[4] & m[5]) == 0xff; }
  static bool IsZero(const uint8_t* m, size_t n) {
    for (size_t i = 0; i < n; i++)
      if (m[i]) return false;
    return true;
  }
  size_t Ignore() {
    stats.ignored.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  size_t Malformed(const char* why) {
    stats.malformed.fetch_add(1, std::memory_order_relaxed);
    lastMalformed = why;
    return 0;
  }
  Entry* Lookup4(uint32_t k) {
    auto it = t4_.find(k);
    return it == t4_.end() ? nullptr : &it->second;
  }
  Entry* Lookup6(const uint8_t* p) {
    auto it = t6_.find(K16(p));
    return it == t6_.end() ? nullptr : &it->second;
  }

  size_t HandleArp(const uint8_t* f, size_t n, uint8_t pkttype, uint8_t* out) {
    if (n < 14) return Malformed("ethernet header truncated");
    if (U16(f + 12) != 0x0806) return Ignore();
    if (n < 42) return Malformed("arp body truncated");
    const uint8_t* a = f + 14;
    if (U16(a) != 1 || U16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4) return Malformed("arp header: not IPv4 over Ethernet");
    uint16_t op = U16(a + 6);
    if (op != 1 && op != 2) return Malformed("arp op is not 1 or 2");
    if (op != 1) return Ignore();
    const uint8_t* sha = a + 8;
    const uint8_t* spa = a + 14;
    const uint8_t* tpa = a + 24;
    bool toUs = memcmp(f, mac, 6) == 0;
    if (!toUs && !IsBcast(f)) return Ignore();
    if (memcmp(f + 6, mac, 6) == 0 || memcmp(sha, mac, 6) == 0) return Ignore();
    if (IsZero(sha, 6) || (sha[0] & 1)) return Ignore();
    if (memcmp(spa, tpa, 4) == 0) return Ignore();  // gratuitous: an announcement, not a question
    Entry* e = Lookup4(K4(tpa));
    uint8_t st = e ? e->state : kOff;
    if (st == kOff) {
      stats.notOwned.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
    if (st == kDraining) {
      // draining: only a client that still sends to our MAC (a unicast refresh) is answered
      if (!toUs || pkttype != 0 /* PACKET_HOST */) {
        stats.drainIgnored.fetch_add(1, std::memory_order_relaxed);
        return 0;
      }
      stats.drainReplied.fetch_add(1, std::memory_order_relaxed);
    }
    e->hits++;
    memcpy(out, sha, 6);
    memcpy(out + 6, mac, 6);
    out[12] = 0x08;
    out[13] = 0x06;
    uint8_t* r = out + 14;
    r[0] = 0; r[1] = 1; r[2] = 0x08; r[3] = 0; r[4] = 6; r[5] = 4; r[6] = 0; r[7] = 2;
    memcpy(r + 8, mac, 6);
    memcpy(r + 14, tpa, 4);
    memcpy(r + 18, sha, 6);
    memcpy(r + 24, spa, 4);
    return 42;
  }

  static uint32_t SumBytes(const uint8_t* p, size_t n, uint32_t s) {
    for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t(p[i]) << 8) | p[i + 1];
    if (n & 1) s += uint32_t(p[n - 1]) << 8;
    return s;
  }
  static uint16_t Fold(uint32_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(s);
  }
  static uint16_t Icmp6Sum(const uint8_t* src, const uint8_t* dst, const uint8_t* icmp, size_t len) {
    uint32_t s = 0;
    s = SumBytes(src, 16, s);
    s = SumBytes(dst, 16, s);
    s += static_cast<uint32_t>(len >> 16) + static_cast<uint32_t>(len & 0xffff);
    s += 58;
    s = SumBytes(icmp, len, s);
    return Fold(s);
  }

  size_t HandleNs(const uint8_t* f, size_t n, uint8_t pkttype, uint8_t* out) {
    if (n < 14) return Malformed("ethernet header truncated");
    if (U16(f + 12) != 0x86dd) return Ignore();
    if (n < 54) return Malformed("ipv6 header truncated");
    const uint8_t* ip = f + 14;
    if ((ip[0] >> 4) != 6) return Malformed("ipv6 version is not 6");
    if (ip[6] != 58) return Ignore();  // not ICMPv6 (extension headers are not supported)
    size_t plen = U16(ip + 4);
    if (54 + plen > n) return Malformed("ipv6 payload length exceeds the frame");
    const uint8_t* icmp = ip + 40;
    if (plen < 4) return Malformed("icmpv6 message truncated");
    if (icmp[0] != 135) return Ignore();
    if (ip[7] != 255) return Malformed("ipv6 hop limit is not 255");
    if (icmp[1] != 0) return Malformed("icmpv6 code is not 0");
    if (plen < 24) return Malformed("neighbour solicitation shorter than 24 bytes");
    const uint8_t* src = ip + 8;
    const uint8_t* dst = ip + 24;
    if (Icmp6Sum(src, dst, icmp, plen) != 0xffff) return Malformed("icmpv6 checksum");
    const uint8_t* target = icmp + 8;
    if (target[0] == 0xff) return Malformed("target is multicast");
    const uint8_t* slla = nullptr;
    for (size_t p = 24; p < plen;) {
      if (p + 2 > plen) return Malformed("truncated option header");
      size_t olen = size_t(icmp[p + 1]) * 8;
      if (olen == 0) return Malformed("option of length 0");
      if (p + olen > plen) return Malformed("option overruns the message");
      if (icmp[p] == 1 && olen >= 8) slla = icmp + p + 2;
      p += olen;
    }
    bool dad = IsZero(src, 16);
    if (src[0] == 0xff) return Malformed("source is multicast");
    if (dad && slla) return Malformed("DAD solicitation with a source link-layer address");
    if (memcmp(f + 6, mac, 6) == 0) return Ignore();
    Entry* e = Lookup6(target);
    uint8_t st = e ? e->state : kOff;
    if (st == kOff) {
      stats.notOwned.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
    // RFC 4861 7.2.2: a solicitation goes to the target's solicited-node group, or (NUD) to the
    // target itself; anything else (another group, all-nodes...) is not for this target.
    static const uint8_t kSnPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
    bool solicitedGroup = memcmp(dst, kSnPrefix, 13) == 0 && memcmp(dst + 13, target + 13, 3) == 0;
    bool unicast = memcmp(dst, target, 16) == 0;
    if ((!solicitedGroup && !unicast) || (dad && !solicitedGroup)) {
      stats.wrongGroup.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
    if (st == kDraining) {
      // draining: only a NUD probe sent to the target at our MAC (a client with a stale cache)
      if (!unicast || dad || pkttype != 0 /* PACKET_HOST */ || memcmp(f, mac, 6) != 0) {
        stats.drainIgnored.fetch_add(1, std::memory_order_relaxed);
        return 0;
      }
      stats.drainReplied.fetch_add(1, std::memory_order_relaxed);
    }
    e->hits++;
    static const uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t kAllNodesMac[6] = {0x33, 0x33, 0, 0, 0, 1};
    memcpy(out, dad ? kAllNodesMac : (slla ? slla : f + 6), 6);
    memcpy(out + 6, mac, 6);
    out[12] = 0x86;
    out[13] = 0xdd;
    uint8_t* o = out + 14;
    o[0] = 0x60; o[1] = 0; o[2] = 0; o[3] = 0;
    o[4] = 0; o[5] = 32; o[6] = 58; o[7] = 255;
    memcpy(o + 8, target, 16);
    memcpy(o + 24, dad ? kAllNodes : src, 16);
    uint8_t* c = o + 40;
    memset(c, 0, 32);
    c[0] = 136;
    c[4] = static_cast<uint8_t>((dad ? 0 : 0x40) | 0x20);  // S (unless DAD) and O
    memcpy(c + 8, target, 16);
    c[24] = 2;
    c[25] = 1;
    memcpy(c + 26, mac, 6);
    uint16_t sum = static_cast<uint16_t>(~Icmp6Sum(o + 8, o + 24, c, 32));
    c[2] = static_cast<uint8_t>(sum >> 8);
    c[3] = static_cast<uint8_t>(sum & 0xff);
    return 86;
  }
};
