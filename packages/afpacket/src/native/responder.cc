// L2 fast path: an AF_PACKET socket whose frames never reach JavaScript. A native thread reads
// ARP requests / ICMPv6 neighbour solicitations (already narrowed by a classic BPF filter built
// from the owned VIPs), checks them against a VIP table held here and writes the reply itself.
// JavaScript only updates the table, the filter and the multicast memberships, sends batches of
// announcements (sendmmsg on a libuv worker thread) and reads counters.
#include <napi.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "packet_socket.h"
#include "responder_logic.h"

namespace {

const auto Errno = lbkit_packet::ErrnoText;

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

constexpr int kBatch = 64;
constexpr size_t kSnap = 2048;

// Sends `count` frames of `len` bytes laid out back to back in `data` with sendmmsg, `chunk` at a
// time, sleeping `gapUs` between chunks. Retries briefly on a full send buffer. Returns frames sent
// or -errno when nothing could be sent.
long SendFrames(int fd, unsigned ifindex, const uint8_t* data, size_t len, size_t count, size_t chunk, unsigned gapUs) {
  if (chunk == 0 || chunk > 1024) chunk = 1024;
  std::vector<mmsghdr> msgs(chunk);
  std::vector<iovec> iov(chunk);
  std::vector<sockaddr_ll> to(chunk);
  size_t sent = 0;
  int lastErr = 0;
  int stalls = 0;
  while (sent < count) {
    size_t n = count - sent < chunk ? count - sent : chunk;
    for (size_t i = 0; i < n; i++) lbkit_packet::FrameMsg(&msgs[i], &to[i], &iov[i], ifindex, data + (sent + i) * len, len);
    int r = sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
    if (r < 0) {
      lastErr = errno;
      if ((lastErr == EAGAIN || lastErr == ENOBUFS || lastErr == EINTR) && stalls < 200) {
        stalls++;
        pollfd p{fd, POLLOUT, 0};
        poll(&p, 1, 5);
        continue;
      }
      if (lastErr == ENETDOWN && stalls < 1) {  // a pending link-down error is reported once
        stalls++;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        continue;
      }
      break;
    }
    sent += static_cast<size_t>(r);
    if (gapUs > 0 && sent < count) {
      timespec ts{0, static_cast<long>(gapUs) * 1000};
      nanosleep(&ts, nullptr);
    }
  }
  if (sent == 0 && count > 0 && lastErr != 0) return -lastErr;
  return static_cast<long>(sent);
}

class BatchWorker : public Napi::AsyncWorker {
 public:
  BatchWorker(Napi::Function cb, int fd, unsigned ifindex, const uint8_t* data, size_t len, size_t count, size_t chunk, unsigned gapUs)
      : Napi::AsyncWorker(cb), fd_(fd), ifindex_(ifindex), data_(data, data + len * count), len_(len), count_(count), chunk_(chunk), gapUs_(gapUs) {}
  ~BatchWorker() override {
    if (fd_ >= 0) ::close(fd_);
  }
  void Execute() override {
    long r = SendFrames(fd_, ifindex_, data_.data(), len_, count_, chunk_, gapUs_);
    ::close(fd_);
    fd_ = -1;
    if (r < 0) SetError(Errno("sendmmsg(AF_PACKET)", static_cast<int>(-r)));
    else sent_ = r;
  }
  void OnOK() override {
    Napi::Env env = Env();
    Callback().Call({env.Null(), Napi::Number::New(env, static_cast<double>(sent_))});
  }

 private:
  int fd_;
  unsigned ifindex_;
  std::vector<uint8_t> data_;
  size_t len_, count_, chunk_;
  unsigned gapUs_;
  long sent_ = 0;
};

class Responder : public Napi::ObjectWrap<Responder> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "Responder", {
      InstanceMethod("setFilter", &Responder::SetFilter),
      InstanceMethod("setEntries", &Responder::SetEntries),
      InstanceMethod("clearEntries", &Responder::ClearEntries),
      InstanceMethod("send", &Responder::Send),
      InstanceMethod("sendBatch", &Responder::SendBatch),
      InstanceMethod("membership", &Responder::Membership),
      InstanceMethod("stats", &Responder::Stats),
      InstanceMethod("takeHits", &Responder::TakeHits),
      InstanceMethod("close", &Responder::Close),
    });
    exports.Set("Responder", ctor);
  }

  // new Responder(ifname, family: 4 | 6, mac: Buffer(6))
  explicit Responder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Responder>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsBuffer() ||
        info[2].As<Napi::Buffer<uint8_t>>().Length() != 6) {
      Napi::TypeError::New(env, "Responder(ifname, family, mac): bad arguments").ThrowAsJavaScriptException();
      return;
    }
    std::string ifname = info[0].As<Napi::String>().Utf8Value();
    int fam = info[1].As<Napi::Number>().Int32Value();
    if (fam != 4 && fam != 6) {
      Napi::RangeError::New(env, "Responder: family must be 4 (ARP) or 6 (NDP)").ThrowAsJavaScriptException();
      return;
    }
    logic_.v6 = fam == 6;
    memcpy(logic_.mac, info[2].As<Napi::Buffer<uint8_t>>().Data(), 6);
    std::string err = lbkit_packet::OpenOn(ifname, &fd_, &ifindex_);
    if (!err.empty()) {
      Napi::Error::New(env, err).ThrowAsJavaScriptException();
      return;
    }
    int one = 1;
    setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));  // best effort (Linux >= 4.20)
    // A deep receive queue rides out scheduling stalls of the reader thread during a flood
    // (SO_RCVBUFFORCE needs CAP_NET_ADMIN; otherwise the request is capped at net.core.rmem_max).
    int rcv = 8 << 20;
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    int snd = 4 << 20;
    if (setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0) setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
    // Until JavaScript installs the VIP filter, accept nothing.
    sock_filter drop[1] = {{BPF_RET | BPF_K, 0, 0, 0}};
    err = lbkit_packet::AttachFilter(fd_, drop, 1);
    if (err.empty()) err = lbkit_packet::BindTo(fd_, ifindex_, logic_.v6 ? ETH_P_IPV6 : ETH_P_ARP);
    if (!err.empty()) {
      Fail(env, err);
      return;
    }
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_ < 0) {
      Fail(env, Errno("eventfd", errno));
      return;
    }
    thread_ = std::thread([this] { Run(); });
    alive_ = true;
  }

  ~Responder() override { Stop(); }

 private:
  void Fail(Napi::Env env, const std::string& msg) {
    ::close(fd_);
    fd_ = -1;
    Napi::Error::New(env, msg).ThrowAsJavaScriptException();
  }

  void Stop() {
    if (!alive_) return;
    alive_ = false;
    stop_.store(true);
    uint64_t one = 1;
    if (write(wake_, &one, sizeof(one)) < 0) { /* the thread also polls with a timeout */ }
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
    ::close(wake_);
    fd_ = -1;
    wake_ = -1;
  }

  // The reader thread: recvmmsg a batch, decide under the table lock, sendmmsg the replies.
  void Run() {
    std::vector<uint8_t> rx(kBatch * kSnap);
    std::vector<uint8_t> tx(kBatch * kMaxReply);
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    sockaddr_ll from[kBatch];
    mmsghdr out[kBatch];
    iovec oiov[kBatch];
    sockaddr_ll to[kBatch];
    while (!stop_.load()) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {wake_, POLLIN, 0}};
      int pr = poll(p, 2, 1000);
      if (pr < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (stop_.load()) break;
      if (p[0].revents & POLLERR) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soerr, &sl);  // clears ENETDOWN after a link-down
        if (soerr != 0 && soerr != ENETDOWN && soerr != ENXIO) SetLastError(Errno("socket error", soerr));
      }
      if (!(p[0].revents & POLLIN)) continue;
      for (int round = 0; round < 64 && !stop_.load(); round++) {
        for (int i = 0; i < kBatch; i++) {
          iov[i].iov_base = rx.data() + i * kSnap;
          iov[i].iov_len = kSnap;
          memset(&msgs[i], 0, sizeof(mmsghdr));
          msgs[i].msg_hdr.msg_name = &from[i];
          msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_ll);
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd_, msgs, kBatch, MSG_DONTWAIT, nullptr);
        if (n <= 0) {
          if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ENETDOWN) SetLastError(Errno("recvmmsg", errno));
          break;
        }
        int nout = 0;
        {
          std::lock_guard<std::mutex> g(mu_);
          for (int i = 0; i < n; i++) {
            size_t len = msgs[i].msg_len > kSnap ? kSnap : msgs[i].msg_len;
            uint8_t* reply = tx.data() + nout * kMaxReply;
            size_t rlen = logic_.Handle(rx.data() + i * kSnap, len, from[i].sll_pkttype, reply);
            if (rlen == 0) continue;
            lbkit_packet::FrameMsg(&out[nout], &to[nout], &oiov[nout], ifindex_, reply, rlen);
            nout++;
          }
        }
        int done = 0;
        int tries = 0;
        while (done < nout && tries < 50) {
          int r = sendmmsg(fd_, out + done, static_cast<unsigned>(nout - done), MSG_DONTWAIT);
          if (r < 0) {
            if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) {
              tries++;
              pollfd w{fd_, POLLOUT, 0};
              poll(&w, 1, 2);
              continue;
            }
            break;
          }
          done += r;
        }
        logic_.stats.replied.fetch_add(done);
        if (done < nout) logic_.stats.sendErrors.fetch_add(nout - done);
        if (n < kBatch) break;
      }
    }
  }

  void SetLastError(const std::string& s) {
    std::lock_guard<std::mutex> g(errMu_);
    lastError_ = s;
  }

  Napi::Value SetFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!alive_) {
      Napi::Error::New(env, "setFilter: responder is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsBuffer()) {
      Napi::TypeError::New(env, "setFilter(program): program must be a Buffer").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto prog = info[0].As<Napi::Buffer<uint8_t>>();
    if (prog.Length() == 0 || prog.Length() % sizeof(sock_filter) != 0 || prog.Length() / sizeof(sock_filter) > BPF_MAXINSNS) {
      Napi::RangeError::New(env, "setFilter: length must be a non-zero multiple of 8 bytes (at most 4096 instructions)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::string err = lbkit_packet::AttachFilter(fd_, prog.Data(), prog.Length() / sizeof(sock_filter));
    if (!err.empty()) Napi::Error::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  // setEntries(keys: Buffer (n * 4 or n * 16 bytes), state: 0 remove | 1 active | 2 draining)
  Napi::Value SetEntries(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t klen = logic_.v6 ? 16 : 4;
    if (info.Length() < 2 || !info[0].IsBuffer() || !info[1].IsNumber()) {
      Napi::TypeError::New(env, "setEntries(keys, state): bad arguments").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto keys = info[0].As<Napi::Buffer<uint8_t>>();
    int state = info[1].As<Napi::Number>().Int32Value();
    if (keys.Length() % klen != 0 || state < 0 || state > 2) {
      Napi::RangeError::New(env, "setEntries: keys must be a multiple of the address size and state 0..2").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::lock_guard<std::mutex> g(mu_);
    for (size_t o = 0; o < keys.Length(); o += klen) logic_.Set(keys.Data() + o, static_cast<uint8_t>(state));
    return Napi::Number::New(env, static_cast<double>(logic_.Size()));
  }

  Napi::Value ClearEntries(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> g(mu_);
    logic_.Clear();
    return info.Env().Undefined();
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!alive_ || info.Length() < 1 || !info[0].IsBuffer() || info[0].As<Napi::Buffer<uint8_t>>().Length() < 14) {
      Napi::Error::New(env, alive_ ? "send(frame): frame must be a Buffer of at least 14 bytes" : "send: responder is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto f = info[0].As<Napi::Buffer<uint8_t>>();
    long r = SendFrames(fd_, ifindex_, f.Data(), f.Length(), 1, 1, 0);
    if (r < 0) Napi::Error::New(env, Errno("sendto(AF_PACKET)", static_cast<int>(-r))).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  // sendBatch(frames: Buffer, frameLen, chunk, gapUs, cb(err, sent)): on a libuv worker thread.
  Napi::Value SendBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[0].IsBuffer() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber() || !info[4].IsFunction()) {
      Napi::TypeError::New(env, "sendBatch(frames, frameLen, chunk, gapUs, cb): bad arguments").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!alive_) {
      Napi::Error::New(env, "sendBatch: responder is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto buf = info[0].As<Napi::Buffer<uint8_t>>();
    uint32_t len = info[1].As<Napi::Number>().Uint32Value();
    if (len < 14 || len > 9216 || buf.Length() % len != 0) {
      Napi::RangeError::New(env, "sendBatch: frameLen must be 14..9216 and divide the buffer length").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    int dupfd = fcntl_dup();
    if (dupfd < 0) {
      Napi::Error::New(env, Errno("dup", errno)).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto* w = new BatchWorker(info[4].As<Napi::Function>(), dupfd, ifindex_, buf.Data(), len, buf.Length() / len,
                              info[2].As<Napi::Number>().Uint32Value(), info[3].As<Napi::Number>().Uint32Value());
    w->Queue();
    return env.Undefined();
  }

  int fcntl_dup() { return ::dup(fd_); }

  Napi::Value Membership(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!alive_ || info.Length() < 2 || !info[0].IsBuffer() || info[0].As<Napi::Buffer<uint8_t>>().Length() != 6) {
      Napi::Error::New(env, alive_ ? "membership(mac, add): mac must be a 6-byte Buffer" : "membership: responder is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::string err = lbkit_packet::Membership(fd_, ifindex_, info[0].As<Napi::Buffer<uint8_t>>().Data(), info[1].ToBoolean().Value());
    if (!err.empty()) Napi::Error::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    const auto& s = logic_.stats;
    o.Set("received", static_cast<double>(s.received.load()));
    o.Set("replied", static_cast<double>(s.replied.load()));
    o.Set("ignored", static_cast<double>(s.ignored.load()));
    o.Set("notOwned", static_cast<double>(s.notOwned.load()));
    o.Set("malformed", static_cast<double>(s.malformed.load()));
    o.Set("drainReplied", static_cast<double>(s.drainReplied.load()));
    o.Set("drainIgnored", static_cast<double>(s.drainIgnored.load()));
    o.Set("wrongGroup", static_cast<double>(s.wrongGroup.load()));
    o.Set("sendErrors", static_cast<double>(s.sendErrors.load()));
    {
      std::lock_guard<std::mutex> g(mu_);
      o.Set("entries", static_cast<double>(logic_.Size()));
      if (!logic_.lastMalformed.empty()) o.Set("lastMalformed", logic_.lastMalformed);
    }
    {
      std::lock_guard<std::mutex> g(errMu_);
      if (!lastError_.empty()) o.Set("lastError", lastError_);
    }
    return o;
  }

  // takeHits(): { keys: Buffer, counts: number[] } of the entries answered since the last call.
  Napi::Value TakeHits(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string keys;
    std::vector<uint32_t> counts;
    {
      std::lock_guard<std::mutex> g(mu_);
      logic_.TakeHits(keys, counts);
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("keys", Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(keys.data()), keys.size()));
    Napi::Array a = Napi::Array::New(env, counts.size());
    for (size_t i = 0; i < counts.size(); i++) a.Set(static_cast<uint32_t>(i), static_cast<double>(counts[i]));
    o.Set("counts", a);
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop();
    return info.Env().Undefined();
  }

  int fd_ = -1;
  int wake_ = -1;
  unsigned ifindex_ = 0;
  bool alive_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::mutex errMu_;
  std::string lastError_;
  ResponderLogic logic_;
};

}  // namespace

void InitResponder(Napi::Env env, Napi::Object exports) { Responder::Init(env, exports); }
