// AF_PACKET raw socket for Node.js (Node-API). One object per socket: open(), send(), membership, close().
#include <napi.h>
#include <uv.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <string>

#include "packet_socket.h"

namespace {

using lbkit_packet::ErrnoText;

class Socket : public Napi::ObjectWrap<Socket> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "Socket", {
      InstanceMethod("send", &Socket::Send),
      InstanceMethod("membership", &Socket::Membership),
      InstanceMethod("close", &Socket::Close),
      InstanceMethod("ref", &Socket::RefPoll),
      InstanceMethod("unref", &Socket::UnrefPoll),
    });
    exports.Set("Socket", ctor);
    return exports;
  }

  // new Socket(ifname, protocol, filter: Buffer|null, onFrame(buf, pkttype), onError(msg))
  explicit Socket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Socket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[0].IsString() || !info[1].IsNumber() || !info[3].IsFunction() || !info[4].IsFunction()) {
      Napi::TypeError::New(env, "Socket(ifname, protocol, filter, onFrame, onError): bad arguments").ThrowAsJavaScriptException();
      return;
    }
    std::string ifname = info[0].As<Napi::String>().Utf8Value();
    protocol_ = static_cast<uint16_t>(info[1].As<Napi::Number>().Uint32Value());
    // Protocol 0: nothing is queued until bind(), so the filter is in place before the first frame.
    std::string err = lbkit_packet::OpenOn(ifname, &fd_, &ifindex_);
    if (!err.empty()) {
      Napi::Error::New(env, err).ThrowAsJavaScriptException();
      return;
    }
    if (info[2].IsBuffer()) {
      Napi::Buffer<uint8_t> prog = info[2].As<Napi::Buffer<uint8_t>>();
      if (prog.Length() == 0 || prog.Length() % sizeof(sock_filter) != 0 || prog.Length() / sizeof(sock_filter) > 4096) {
        Fail(env, "filter: length must be a non-zero multiple of 8 bytes (at most 4096 instructions)");
        return;
      }
      err = lbkit_packet::AttachFilter(fd_, prog.Data(), prog.Length() / sizeof(sock_filter));
      if (!err.empty()) {
        Fail(env, err);
        return;
      }
    }
    err = lbkit_packet::BindTo(fd_, ifindex_, protocol_);
    if (!err.empty()) {
      Fail(env, err);
      return;
    }
    onFrame_ = Napi::Persistent(info[3].As<Napi::Function>());
    onError_ = Napi::Persistent(info[4].As<Napi::Function>());
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    if (uv_poll_init_socket(loop, poll_, fd_) != 0) {
      delete poll_;
      poll_ = nullptr;
      Fail(env, "uv_poll_init_socket failed");
      return;
    }
    poll_->data = this;
    uv_poll_start(poll_, UV_READABLE, &Socket::OnPoll);
    env_ = env;
    Napi::ObjectWrap<Socket>::Ref();  // keep the JS object alive while polling
    alive_ = true;
  }

  ~Socket() override {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  void Fail(Napi::Env env, const std::string& msg) {
    ::close(fd_);
    fd_ = -1;
    Napi::Error::New(env, msg).ThrowAsJavaScriptException();
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    Socket* self = static_cast<Socket*>(handle->data);
    if (self == nullptr || !self->alive_) return;
    Napi::Env env = self->env_;
    Napi::HandleScope scope(env);
    if (status < 0) {
      // POLLERR: libuv stops the poll handle. For packet sockets this is a pending sk_err, typically
      // ENETDOWN when the link goes down. Read (and so clear) it, report anything but a link-state
      // error, and resume polling so the socket keeps working when the link comes back.
      int soerr = 0;
      socklen_t slen = sizeof(soerr);
      getsockopt(self->fd_, SOL_SOCKET, SO_ERROR, &soerr, &slen);
      if (soerr != 0 && soerr != ENETDOWN && soerr != ENXIO) {
        self->onError_.MakeCallback(env.Global(), {Napi::String::New(env, ErrnoText("socket error", soerr))});
      }
      if (self->alive_ && self->poll_ != nullptr) uv_poll_start(self->poll_, UV_READABLE, &Socket::OnPoll);
      return;
    }
    uint8_t buf[65536];
    for (int i = 0; i < 1024 && self->alive_; i++) {
      sockaddr_ll from;
      socklen_t fromlen = sizeof(from);
      ssize_t n = recvfrom(self->fd_, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &fromlen);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        self->onError_.MakeCallback(env.Global(), {Napi::String::New(env, ErrnoText("recvfrom", errno))});
        break;
      }
      size_t len = static_cast<size_t>(n) > sizeof(buf) ? sizeof(buf) : static_cast<size_t>(n);
      Napi::Buffer<uint8_t> frame = Napi::Buffer<uint8_t>::Copy(env, buf, len);
      self->onFrame_.MakeCallback(env.Global(), {frame, Napi::Number::New(env, from.sll_pkttype)});
      if (env.IsExceptionPending()) break;
    }
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!alive_) {
      Napi::Error::New(env, "send: socket is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsBuffer()) {
      Napi::TypeError::New(env, "send(frame): frame must be a Buffer").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Buffer<uint8_t> frame = info[0].As<Napi::Buffer<uint8_t>>();
    if (frame.Length() < 14) {
      Napi::RangeError::New(env, "send(frame): frame shorter than an Ethernet header (14 bytes)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    sockaddr_ll to;
    memset(&to, 0, sizeof(to));
    to.sll_family = AF_PACKET;
    to.sll_ifindex = static_cast<int>(ifindex_);
    to.sll_halen = 6;
    memcpy(to.sll_addr, frame.Data(), 6);
    uint16_t etype;
    memcpy(&etype, frame.Data() + 12, 2);
    to.sll_protocol = etype;
    ssize_t n = sendto(fd_, frame.Data(), frame.Length(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    if (n < 0 && errno == ENETDOWN) {
      // A pending ENETDOWN from an earlier link-down is returned once by the next send; clear and retry.
      int soerr = 0;
      socklen_t slen = sizeof(soerr);
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soerr, &slen);
      n = sendto(fd_, frame.Data(), frame.Length(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    }
    if (n < 0) {
      Napi::Error::New(env, ErrnoText("sendto(AF_PACKET)", errno)).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // membership(mac: Buffer(6), add: boolean)
  Napi::Value Membership(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!alive_) {
      Napi::Error::New(env, "membership: socket is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 2 || !info[0].IsBuffer() || info[0].As<Napi::Buffer<uint8_t>>().Length() != 6) {
      Napi::TypeError::New(env, "membership(mac, add): mac must be a 6-byte Buffer").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::string err = lbkit_packet::Membership(fd_, ifindex_, info[0].As<Napi::Buffer<uint8_t>>().Data(), info[1].ToBoolean().Value());
    if (!err.empty()) Napi::Error::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  static void OnClosed(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (!alive_) return info.Env().Undefined();
    alive_ = false;
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), &Socket::OnClosed);
      poll_ = nullptr;
    }
    ::close(fd_);
    fd_ = -1;
    onFrame_.Reset();
    onError_.Reset();
    Napi::ObjectWrap<Socket>::Unref();
    return info.Env().Undefined();
  }

  Napi::Value RefPoll(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }
  Napi::Value UnrefPoll(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  int fd_ = -1;
  unsigned int ifindex_ = 0;
  uint16_t protocol_ = 0;
  bool alive_ = false;
  uv_poll_t* poll_ = nullptr;
  napi_env env_ = nullptr;
  Napi::FunctionReference onFrame_;
  Napi::FunctionReference onError_;
};

}  // namespace

void InitResponder(Napi::Env env, Napi::Object exports);  // responder.cc

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  Socket::Init(env, exports);
  InitResponder(env, exports);
  return exports;
}

NODE_API_MODULE(afpacket, InitAll)
