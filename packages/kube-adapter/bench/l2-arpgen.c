// ARP load generator and prober for the L2 scale bench (run in the client namespace, root).
//
//   l2-arpgen flood IFACE SRC_IP FIRST_VIP NVIPS COUNT RATE_PPS
//       COUNT broadcast ARP requests cycling over NVIPS consecutive VIPs at RATE_PPS (0 = as fast as
//       possible: a burst), replies read on the same socket between sends; prints JSON with sent,
//       replies, answered fraction and reply latency percentiles (µs, per VIP: last request -> reply).
//   l2-arpgen probe IFACE SRC_IP FIRST_VIP NVIPS WAIT_MS [ROUNDS [OWNERS_FILE]]
//       one request per VIP (repeated for unanswered VIPs each round), then prints how many VIPs got an
//       answer, how many got answers from more than one MAC, answers per MAC, and the time (ms since
//       start) at which the last VIP first answered. With OWNERS_FILE (one MAC per VIP and line, the
//       expected owner): also how many VIPs were answered by their owner and by another MAC ("wrong").
//   l2-arpgen nsflood IFACE SRC_IP6 FIRST_VIP6 NVIPS COUNT RATE_PPS
//       the same with ICMPv6 neighbour solicitations (to each target's solicited-node group, SLLA =
//       our MAC, checksum computed), NAs for the range counted.
//   l2-arpgen ask IFACE SRC_IP VIP DST_MAC WAIT_MS
//       one ARP request for VIP sent to DST_MAC (ff:ff:ff:ff:ff:ff = broadcast, else unicast to that
//       node, as a client with a cached entry re-validates it), then prints the source MACs of the
//       replies received within WAIT_MS as JSON.
//   l2-arpgen garps IFACE FIRST_VIP NVIPS TIMEOUT_MS [TARGET [OWNERS_FILE]]
//       prints "ready", then waits for gratuitous ARPs (SPA = TPA) for the VIP range until TARGET
//       distinct VIPs (default NVIPS) were seen; prints JSON with kernel timestamps (CLOCK_REALTIME ms)
//       of the first and last new VIP seen, the count of distinct VIPs and of frames, and the source
//       MACs. With OWNERS_FILE (as for probe): GARPs from a MAC other than the VIP's owner ("wrong"; a
//       line "-" accepts any MAC) are counted and do not count towards TARGET; when lines are marked
//       with a leading "*", only those VIPs count towards TARGET (the others are only checked).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int open_sock(const char* ifname, unsigned char mac[6], int* ifindex) {
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ARP));
  if (fd < 0) { perror("socket"); exit(1); }
  int buf = 64 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) { perror("SIOCGIFHWADDR"); exit(1); }
  memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  *ifindex = if_nametoindex(ifname);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ARP);
  sll.sll_ifindex = *ifindex;
  if (bind(fd, (struct sockaddr*)&sll, sizeof sll) < 0) { perror("bind"); exit(1); }
  return fd;
}

static void build_req(unsigned char* f, const unsigned char mac[6], uint32_t src, uint32_t tpa) {
  memset(f, 0xff, 6);
  memcpy(f + 6, mac, 6);
  f[12] = 0x08; f[13] = 0x06;
  unsigned char h[8] = {0, 1, 8, 0, 6, 4, 0, 1};
  memcpy(f + 14, h, 8);
  memcpy(f + 22, mac, 6);
  uint32_t s = htonl(src), t = htonl(tpa);
  memcpy(f + 28, &s, 4);
  memset(f + 32, 0, 6);
  memcpy(f + 38, &t, 4);
}

static void send_frame(int fd, int ifindex, const unsigned char* f) {
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  memcpy(to.sll_addr, f, 6);
  for (int tries = 0; tries < 1000; tries++) {
    if (sendto(fd, f, 42, 0, (struct sockaddr*)&to, sizeof to) == 42) return;
    if (errno != EAGAIN && errno != ENOBUFS) return;
    struct pollfd p = {fd, POLLOUT, 0};
    poll(&p, 1, 1);
  }
}

static int cmp_d(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

// Reads OWNERS_FILE: one MAC per line for VIP 0..n-1 ("-": any); a leading "*" marks the VIP as
// counted towards the garps TARGET (`counted`, may be NULL; without any "*" every VIP counts).
// Returns n*6 bytes (all-zero = any).
static unsigned char* load_owners(const char* path, uint32_t n, unsigned char** counted) {
  unsigned char* o = calloc(n, 6);
  unsigned char* cnt = calloc(n, 1);
  int stars = 0;
  FILE* f = fopen(path, "r");
  if (!f) { perror(path); exit(1); }
  char line[64];
  for (uint32_t i = 0; i < n && fgets(line, sizeof line, f); i++) {
    unsigned int m[6];
    char* l = line;
    if (*l == '*') {
      cnt[i] = 1;
      stars = 1;
      l++;
    }
    if (sscanf(l, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6)
      for (int k = 0; k < 6; k++) o[i * 6 + k] = (unsigned char)m[k];
  }
  fclose(f);
  if (!stars) memset(cnt, 1, n);
  if (counted) *counted = cnt;
  else free(cnt);
  return o;
}

static int owner_is(const unsigned char* owners, uint32_t i, const unsigned char* mac) {
  static const unsigned char zero[6];
  return !memcmp(owners + i * 6, zero, 6) || !memcmp(owners + i * 6, mac, 6);
}

// Reads every queued reply; for a reply to us (op 2, TPA = our IP) whose SPA is a VIP, calls back.
typedef void (*reply_fn)(uint32_t idx, const unsigned char* sha, void* ctx);
static void drain(int fd, uint32_t src, uint32_t first, uint32_t n, reply_fn fn, void* ctx) {
  unsigned char b[2048];
  for (;;) {
    ssize_t r = recv(fd, b, sizeof b, MSG_DONTWAIT);
    if (r < 0) return;
    if (r < 42 || b[12] != 8 || b[13] != 6 || b[20] != 0 || b[21] != 2) continue;
    uint32_t spa, tpa;
    memcpy(&spa, b + 28, 4);
    memcpy(&tpa, b + 38, 4);
    spa = ntohl(spa);
    if (ntohl(tpa) != src || spa < first || spa >= first + n) continue;
    fn(spa - first, b + 22, ctx);
  }
}

// The common arguments of flood and probe: IFACE SRC_IP FIRST_VIP NVIPS (argv[2..5]), socket opened.
struct target { int fd; int ifindex; unsigned char mac[6]; uint32_t src, first, n; };
static struct target open_target(char** argv) {
  struct target t;
  t.fd = open_sock(argv[2], t.mac, &t.ifindex);
  t.src = ntohl(inet_addr(argv[3]));
  t.first = ntohl(inet_addr(argv[4]));
  t.n = (uint32_t)atol(argv[5]);
  return t;
}

struct flood_ctx { double* last_sent; double* lat; long nlat; long cap; long replies; };
static void on_flood(uint32_t i, const unsigned char* sha, void* c) {
  (void)sha;
  struct flood_ctx* x = c;
  x->replies++;
  if (x->last_sent[i] > 0 && x->nlat < x->cap) x->lat[x->nlat++] = now_us() - x->last_sent[i];
  x->last_sent[i] = 0;
}

static int flood(int argc, char** argv) {
  if (argc < 8) return 2;
  struct target t = open_target(argv);
  long count = atol(argv[6]);
  double rate = atof(argv[7]);
  struct flood_ctx x = {calloc(t.n, sizeof(double)), malloc(sizeof(double) * count), 0, count, 0};
  // frames are sent in sendmmsg batches of whatever is due (at most 64), then replies are read and
  // the loop sleeps ~50 µs: the pacing does not spin, the responder under test needs the CPU
  unsigned char (*fr)[42] = malloc(64 * 42);
  struct mmsghdr mm[64];
  struct iovec io[64];
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_ifindex = t.ifindex;
  to.sll_halen = 6;
  memset(to.sll_addr, 0xff, 6);
  double t0 = now_us();
  long i = 0;
  while (i < count) {
    long due = rate > 0 ? (long)((now_us() - t0) * rate / 1e6) + 1 : count;
    if (due > count) due = count;
    int k = 0;
    while (i + k < due && k < 64) {
      uint32_t idx = (uint32_t)((i + k) % t.n);
      build_req(fr[k], t.mac, t.src, t.first + idx);
      io[k].iov_base = fr[k];
      io[k].iov_len = 42;
      memset(&mm[k], 0, sizeof mm[k]);
      mm[k].msg_hdr.msg_name = &to;
      mm[k].msg_hdr.msg_namelen = sizeof to;
      mm[k].msg_hdr.msg_iov = &io[k];
      mm[k].msg_hdr.msg_iovlen = 1;
      k++;
    }
    int sent = 0;
    while (sent < k) {
      double ts = now_us();
      for (int j = sent; j < k; j++) {
        uint32_t idx;
        memcpy(&idx, fr[j] + 38, 4);
        x.last_sent[ntohl(idx) - t.first] = ts;
      }
      int r = sendmmsg(t.fd, mm + sent, k - sent, 0);
      if (r <= 0) {
        struct pollfd p = {t.fd, POLLOUT, 0};
        poll(&p, 1, 1);
        continue;
      }
      sent += r;
    }
    i += k;
    drain(t.fd, t.src, t.first, t.n, on_flood, &x);
    if (rate > 0 && i < count && i >= due) {
      struct timespec ts = {0, 50000};
      nanosleep(&ts, NULL);
    }
  }
  double sendEnd = now_us();
  while (now_us() - sendEnd < 300e3) {
    drain(t.fd, t.src, t.first, t.n, on_flood, &x);
    usleep(200);
  }
  qsort(x.lat, x.nlat, sizeof(double), cmp_d);
  double p50 = x.nlat ? x.lat[x.nlat / 2] : -1, p99 = x.nlat ? x.lat[(long)(x.nlat * 0.99)] : -1;
  printf("{\"sent\":%ld,\"replies\":%ld,\"answered\":%.5f,\"p50us\":%.1f,\"p99us\":%.1f,\"sendSeconds\":%.3f,\"ratePps\":%.0f}\n", count, x.replies,
         count ? (double)(x.replies > count ? count : x.replies) / count : 0, p50, p99, (sendEnd - t0) / 1e6, count / ((sendEnd - t0) / 1e6));
  return 0;
}

#define MAXMAC 8
struct probe_ctx { unsigned char* seen; unsigned char macs[MAXMAC][6]; long per_mac[MAXMAC]; int nmac; unsigned char* which; double* first_ms; double t0; unsigned char* owners; unsigned char* right; unsigned char* wrong; };
static void on_probe(uint32_t i, const unsigned char* sha, void* c) {
  struct probe_ctx* x = c;
  if (x->owners) {
    if (owner_is(x->owners, i, sha)) x->right[i] = 1;
    else x->wrong[i] = 1;
  }
  int m = 0;
  for (; m < x->nmac; m++)
    if (memcmp(x->macs[m], sha, 6) == 0) break;
  if (m == x->nmac && x->nmac < MAXMAC) memcpy(x->macs[x->nmac++], sha, 6);
  if (m >= MAXMAC) return;
  unsigned char bit = (unsigned char)(1u << m);
  if (!(x->which[i] & bit)) x->per_mac[m]++;
  if (!x->seen[i]) x->first_ms[i] = (now_us() - x->t0) / 1e3;
  x->which[i] |= bit;
  x->seen[i] = 1;
}

static int probe(int argc, char** argv) {
  if (argc < 7) return 2;
  struct target t = open_target(argv);
  double wait = atof(argv[6]);
  int rounds = argc > 7 ? atoi(argv[7]) : 1;
  struct probe_ctx x;
  memset(&x, 0, sizeof x);
  x.seen = calloc(t.n, 1);
  x.which = calloc(t.n, 1);
  x.first_ms = calloc(t.n, sizeof(double));
  if (argc > 8) {
    x.owners = load_owners(argv[8], t.n, NULL);
    x.right = calloc(t.n, 1);
    x.wrong = calloc(t.n, 1);
  }
  x.t0 = now_us();
  struct timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  double t0epoch = rt.tv_sec * 1e3 + rt.tv_nsec / 1e6;
  unsigned char f[42];
  for (int r = 0; r < rounds; r++) {
    for (uint32_t i = 0; i < t.n; i++) {
      if (x.seen[i] && r > 0) continue;
      build_req(f, t.mac, t.src, t.first + i);
      send_frame(t.fd, t.ifindex, f);
      if ((i & 31) == 0) drain(t.fd, t.src, t.first, t.n, on_probe, &x);
    }
    double end = now_us() + wait * 1e3;
    while (now_us() < end) {
      drain(t.fd, t.src, t.first, t.n, on_probe, &x);
      usleep(200);
    }
    uint32_t got = 0;
    for (uint32_t i = 0; i < t.n; i++) got += x.seen[i];
    if (got == t.n) break;
  }
  uint32_t answered = 0, multi = 0;
  double last = 0;
  for (uint32_t i = 0; i < t.n; i++) {
    answered += x.seen[i];
    if (x.seen[i] && x.first_ms[i] > last) last = x.first_ms[i];
    if (__builtin_popcount(x.which[i]) > 1) multi++;
  }
  uint32_t right = 0, wrong = 0;
  for (uint32_t i = 0; x.owners && i < t.n; i++) {
    right += x.right[i];
    wrong += x.wrong[i];
  }
  printf("{\"vips\":%u,\"answered\":%u,\"multi\":%u,\"owner\":%u,\"wrong\":%u,\"t0Epoch\":%.3f,\"lastFirstAnswerMs\":%.1f,\"byMac\":{", t.n, answered, multi, right, wrong, t0epoch, last);
  for (int m = 0; m < x.nmac; m++)
    printf("%s\"%02x:%02x:%02x:%02x:%02x:%02x\":%ld", m ? "," : "", x.macs[m][0], x.macs[m][1], x.macs[m][2], x.macs[m][3], x.macs[m][4], x.macs[m][5], x.per_mac[m]);
  printf("}}\n");
  return 0;
}

static int garps(int argc, char** argv) {
  if (argc < 6) return 2;
  unsigned char mac[6];
  int ifindex;
  int fd = open_sock(argv[2], mac, &ifindex);
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  uint32_t first = ntohl(inet_addr(argv[3]));
  uint32_t n = (uint32_t)atol(argv[4]);
  double timeout = atof(argv[5]);
  uint32_t target = argc > 6 ? (uint32_t)atol(argv[6]) : n;
  if (target == 0 || target > n) target = n;
  unsigned char* counted = NULL;
  unsigned char* owners = argc > 7 ? load_owners(argv[7], n, &counted) : NULL;
  unsigned char* seen = calloc(n, 1);
  uint32_t distinct = 0;
  long frames = 0, wrong = 0;
  double tfirst = 0, tlast = 0;
  unsigned char macs[MAXMAC][6];
  int nmac = 0;
  printf("ready\n");
  fflush(stdout);
  double end = now_us() + timeout * 1e3;
  unsigned char b[2048];
  char cbuf[256];
  while (now_us() < end && distinct < target) {
    struct pollfd p = {fd, POLLIN, 0};
    poll(&p, 1, 20);
    for (;;) {
      struct iovec iov = {b, sizeof b};
      struct msghdr mh;
      memset(&mh, 0, sizeof mh);
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      mh.msg_control = cbuf;
      mh.msg_controllen = sizeof cbuf;
      ssize_t r = recvmsg(fd, &mh, MSG_DONTWAIT);
      if (r < 0) break;
      if (r < 42 || memcmp(b + 28, b + 38, 4) != 0) continue;
      uint32_t spa;
      memcpy(&spa, b + 28, 4);
      spa = ntohl(spa);
      if (spa < first || spa >= first + n) continue;
      frames++;
      double ts = 0;
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
          struct timespec t;
          memcpy(&t, CMSG_DATA(c), sizeof t);
          ts = t.tv_sec * 1e3 + t.tv_nsec / 1e6;
        }
      int m = 0;
      for (; m < nmac; m++)
        if (memcmp(macs[m], b + 22, 6) == 0) break;
      if (m == nmac && nmac < MAXMAC) memcpy(macs[nmac++], b + 22, 6);
      if (owners && !owner_is(owners, spa - first, b + 22)) {
        wrong++;
        continue;
      }
      if (counted && !counted[spa - first]) continue;
      if (!seen[spa - first]) {
        seen[spa - first] = 1;
        distinct++;
        if (!tfirst) tfirst = ts;
        tlast = ts;
      }
    }
  }
  printf("{\"distinct\":%u,\"frames\":%ld,\"wrong\":%ld,\"firstMs\":%.3f,\"lastMs\":%.3f,\"macs\":[", distinct, frames, wrong, tfirst, tlast);
  for (int m = 0; m < nmac; m++) printf("%s\"%02x:%02x:%02x:%02x:%02x:%02x\"", m ? "," : "", macs[m][0], macs[m][1], macs[m][2], macs[m][3], macs[m][4], macs[m][5]);
  printf("]}\n");
  return 0;
}

static int ask(int argc, char** argv) {
  if (argc < 7) return 2;
  unsigned char mac[6], dst[6];
  int ifindex;
  int fd = open_sock(argv[2], mac, &ifindex);
  uint32_t src = ntohl(inet_addr(argv[3])), vip = ntohl(inet_addr(argv[4]));
  unsigned int d[6];
  if (sscanf(argv[5], "%x:%x:%x:%x:%x:%x", &d[0], &d[1], &d[2], &d[3], &d[4], &d[5]) != 6) return 2;
  for (int k = 0; k < 6; k++) dst[k] = (unsigned char)d[k];
  double wait = atof(argv[6]);
  unsigned char f[42];
  build_req(f, mac, src, vip);
  memcpy(f, dst, 6);
  send_frame(fd, ifindex, f);
  struct probe_ctx x;
  memset(&x, 0, sizeof x);
  x.seen = calloc(1, 1);
  x.which = calloc(1, 1);
  x.first_ms = calloc(1, sizeof(double));
  x.t0 = now_us();
  double end = now_us() + wait * 1e3;
  while (now_us() < end) {
    drain(fd, src, vip, 1, on_probe, &x);
    usleep(500);
  }
  printf("{\"replies\":[");
  for (int m = 0; m < x.nmac; m++)
    printf("%s\"%02x:%02x:%02x:%02x:%02x:%02x\"", m ? "," : "", x.macs[m][0], x.macs[m][1], x.macs[m][2], x.macs[m][3], x.macs[m][4], x.macs[m][5]);
  printf("]}\n");
  return 0;
}

static uint16_t csum6(const unsigned char* src, const unsigned char* dst, const unsigned char* icmp, int len) {
  uint32_t s = 0;
  for (int i = 0; i < 16; i += 2) s += (src[i] << 8 | src[i + 1]) + (dst[i] << 8 | dst[i + 1]);
  s += len + 58;
  for (int i = 0; i + 1 < len; i += 2) s += icmp[i] << 8 | icmp[i + 1];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

// NS frame (86 bytes) from `mac`/`src` for `tgt`, to the target's solicited-node group.
static void build_ns(unsigned char* f, const unsigned char mac[6], const unsigned char src[16], const unsigned char tgt[16]) {
  f[0] = 0x33; f[1] = 0x33; f[2] = 0xff; f[3] = tgt[13]; f[4] = tgt[14]; f[5] = tgt[15];
  memcpy(f + 6, mac, 6);
  f[12] = 0x86; f[13] = 0xdd;
  unsigned char* ip = f + 14;
  memset(ip, 0, 40);
  ip[0] = 0x60; ip[5] = 32; ip[6] = 58; ip[7] = 255;
  memcpy(ip + 8, src, 16);
  unsigned char dst[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, tgt[13], tgt[14], tgt[15]};
  memcpy(ip + 24, dst, 16);
  unsigned char* c = ip + 40;
  memset(c, 0, 32);
  c[0] = 135;
  memcpy(c + 8, tgt, 16);
  c[24] = 1; c[25] = 1;
  memcpy(c + 26, mac, 6);
  uint16_t k = csum6(src, dst, c, 32);
  c[2] = k >> 8; c[3] = k & 0xff;
}

static int nsflood(int argc, char** argv) {
  if (argc < 8) return 2;
  unsigned char mac[6];
  int ifindex;
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_IPV6));
  if (fd < 0) { perror("socket"); return 1; }
  int buf = 64 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, argv[2], IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) { perror("SIOCGIFHWADDR"); return 1; }
  memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  ifindex = if_nametoindex(argv[2]);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_IPV6);
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr*)&sll, sizeof sll) < 0) { perror("bind"); return 1; }
  unsigned char src[16], first[16];
  inet_pton(AF_INET6, argv[3], src);
  inet_pton(AF_INET6, argv[4], first);
  uint32_t base;
  memcpy(&base, first + 12, 4);
  base = ntohl(base);
  uint32_t n = (uint32_t)atol(argv[5]);
  long count = atol(argv[6]);
  double rate = atof(argv[7]);
  double* last_sent = calloc(n, sizeof(double));
  double* lat = malloc(sizeof(double) * count);
  long nlat = 0, replies = 0;
  unsigned char fr[64][86];
  struct mmsghdr mm[64];
  struct iovec io[64];
  struct sockaddr_ll to[64];
  unsigned char rb[2048];
  double t0 = now_us();
  long i = 0;
#define NS_DRAIN()                                                                                   \
  for (;;) {                                                                                         \
    ssize_t r = recv(fd, rb, sizeof rb, MSG_DONTWAIT);                                               \
    if (r < 0) break;                                                                                \
    if (r < 78 || rb[20] != 58 || rb[54] != 136 || memcmp(rb + 62, first, 12) != 0) continue;        \
    uint32_t t;                                                                                      \
    memcpy(&t, rb + 74, 4);                                                                          \
    t = ntohl(t) - base;                                                                             \
    if (t >= n) continue;                                                                            \
    replies++;                                                                                       \
    if (last_sent[t] > 0 && nlat < count) lat[nlat++] = now_us() - last_sent[t];                     \
    last_sent[t] = 0;                                                                                \
  }
  while (i < count) {
    long due = rate > 0 ? (long)((now_us() - t0) * rate / 1e6) + 1 : count;
    if (due > count) due = count;
    int k = 0;
    double ts = now_us();
    while (i + k < due && k < 64) {
      uint32_t idx = (uint32_t)((i + k) % n);
      unsigned char tgt[16];
      memcpy(tgt, first, 12);
      uint32_t v = htonl(base + idx);
      memcpy(tgt + 12, &v, 4);
      build_ns(fr[k], mac, src, tgt);
      last_sent[idx] = ts;
      memset(&to[k], 0, sizeof to[k]);
      to[k].sll_family = AF_PACKET;
      to[k].sll_ifindex = ifindex;
      to[k].sll_halen = 6;
      memcpy(to[k].sll_addr, fr[k], 6);
      io[k].iov_base = fr[k];
      io[k].iov_len = 86;
      memset(&mm[k], 0, sizeof mm[k]);
      mm[k].msg_hdr.msg_name = &to[k];
      mm[k].msg_hdr.msg_namelen = sizeof to[k];
      mm[k].msg_hdr.msg_iov = &io[k];
      mm[k].msg_hdr.msg_iovlen = 1;
      k++;
    }
    int sent = 0;
    while (sent < k) {
      int r = sendmmsg(fd, mm + sent, k - sent, 0);
      if (r <= 0) {
        struct pollfd p = {fd, POLLOUT, 0};
        poll(&p, 1, 1);
        continue;
      }
      sent += r;
    }
    i += k;
    NS_DRAIN();
    if (rate > 0 && i < count && i >= due) {
      struct timespec sl = {0, 50000};
      nanosleep(&sl, NULL);
    }
  }
  double sendEnd = now_us();
  while (now_us() - sendEnd < 300e3) {
    NS_DRAIN();
    usleep(200);
  }
  qsort(lat, nlat, sizeof(double), cmp_d);
  printf("{\"sent\":%ld,\"replies\":%ld,\"answered\":%.5f,\"p50us\":%.1f,\"p99us\":%.1f,\"sendSeconds\":%.3f,\"ratePps\":%.0f}\n", count, replies,
         count ? (double)(replies > count ? count : replies) / count : 0, nlat ? lat[nlat / 2] : -1, nlat ? lat[(long)(nlat * 0.99)] : -1,
         (sendEnd - t0) / 1e6, count / ((sendEnd - t0) / 1e6));
  return 0;
}

int main(int argc, char** argv) {
  int rc = 2;
  if (argc > 1 && !strcmp(argv[1], "flood")) rc = flood(argc, argv);
  else if (argc > 1 && !strcmp(argv[1], "probe")) rc = probe(argc, argv);
  else if (argc > 1 && !strcmp(argv[1], "garps")) rc = garps(argc, argv);
  else if (argc > 1 && !strcmp(argv[1], "ask")) rc = ask(argc, argv);
  else if (argc > 1 && !strcmp(argv[1], "nsflood")) rc = nsflood(argc, argv);
  if (rc == 2) fprintf(stderr, "usage: l2-arpgen flood|probe|garps ... (see the header)\n");
  return rc;
}
