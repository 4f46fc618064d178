// Socket plumbing shared by the two AF_PACKET objects of the addon (afpacket.cc: the plain socket,
// responder.cc: the native responder): errno texts, opening a socket on an interface, attaching a
// classic BPF program, binding to an EtherType, and multicast memberships. Each call returns an
// empty string on success, else the error text (the callers turn it into a JavaScript exception).
#pragma once

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <string>

namespace lbkit_packet {

// "what: strerror (errno N)".
inline std::string ErrnoText(const char* what, int err) {
  return std::string(what) + ": " + strerror(err) + " (errno " + std::to_string(err) + ")";
}

// Resolves `ifname` and opens a non-blocking AF_PACKET socket with protocol 0 (nothing is queued
// before bind(), so a filter attached in between applies from the first frame). Sets *fd, *ifindex.
inline std::string OpenOn(const std::string& ifname, int* fd, unsigned* ifindex) {
  *ifindex = if_nametoindex(ifname.c_str());
  if (*ifindex == 0) return ErrnoText(("if_nametoindex(" + ifname + ")").c_str(), errno);
  *fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (*fd < 0) return ErrnoText("socket(AF_PACKET)", errno);
  return "";
}

// Replaces the socket's filter with `len` instructions at `insns`.
inline std::string AttachFilter(int fd, const void* insns, size_t len) {
  sock_fprog fp;
  fp.len = static_cast<unsigned short>(len);
  fp.filter = reinterpret_cast<sock_filter*>(const_cast<void*>(insns));
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0) return ErrnoText("setsockopt(SO_ATTACH_FILTER)", errno);
  return "";
}

// Binds the socket to `ifindex` and EtherType `protocol` (host order).
inline std::string BindTo(int fd, unsigned ifindex, uint16_t protocol) {
  sockaddr_ll sll;
  memset(&sll, 0, sizeof(sll));
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(protocol);
  sll.sll_ifindex = static_cast<int>(ifindex);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) < 0) return ErrnoText("bind(AF_PACKET)", errno);
  return "";
}

// Joins (add) or leaves the link-layer multicast group `mac` (6 bytes) on `ifindex`.
inline std::string Membership(int fd, unsigned ifindex, const uint8_t* mac, bool add) {
  packet_mreq mreq;
  memset(&mreq, 0, sizeof(mreq));
  mreq.mr_ifindex = static_cast<int>(ifindex);
  mreq.mr_type = PACKET_MR_MULTICAST;
  mreq.mr_alen = 6;
  memcpy(mreq.mr_address, mac, 6);
  if (setsockopt(fd, SOL_PACKET, add ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP, &mreq, sizeof(mreq)) < 0)
    return ErrnoText("setsockopt(PACKET_*_MEMBERSHIP)", errno);
  return "";
}

// Prepares `msg` (for sendmmsg) to send the Ethernet frame `frame` of `len` bytes out of `ifindex`:
// the destination MAC and EtherType come from the frame's header into `to`; `iov` points at it.
inline void FrameMsg(mmsghdr* msg, sockaddr_ll* to, iovec* iov, unsigned ifindex, const uint8_t* frame, size_t len) {
  memset(to, 0, sizeof(sockaddr_ll));
  to->sll_family = AF_PACKET;
  to->sll_ifindex = static_cast<int>(ifindex);
  to->sll_halen = 6;
  memcpy(to->sll_addr, frame, 6);
  memcpy(&to->sll_protocol, frame + 12, 2);
  iov->iov_base = const_cast<uint8_t*>(frame);
  iov->iov_len = len;
  memset(msg, 0, sizeof(mmsghdr));
  msg->msg_hdr.msg_name = to;
  msg->msg_hdr.msg_namelen = sizeof(sockaddr_ll);
  msg->msg_hdr.msg_iov = iov;
  msg->msg_hdr.msg_iovlen = 1;
}

}  // namespace lbkit_packet
