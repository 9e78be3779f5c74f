// `ping`: ICMP echo requests to 127.0.0.1, one at a time and back to back, each reply
// checked (type, id, sequence, checksum, payload). The kernel answers in softirq
// (icmp_rcv -> icmp_echo -> icmp_reply), which is the path this workload exists to show.
#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/icmp.h>
#include <linux/ip.h>

#include <chrono>
#include <cstring>
#include <iterator>
#include <vector>

#include "collector/workloads/detail.hpp"
#include "collector/workloads/workloads.hpp"

namespace kprof::workloads {
namespace {

using detail::Fd;

// A request without a reply within kResendMs counts as unanswered and the next one is
// sent; the workload gives up when no reply at all came for kReplyTimeoutMs.
constexpr int kResendMs = 500;
constexpr int kReplyTimeoutMs = 2000;
constexpr size_t kIcmpHeaderSize = sizeof(icmphdr);
static_assert(kIcmpHeaderSize == 8);

struct IcmpSocket {
    Fd fd;
    bool raw = false;
    // The echo identifier replies carry. A datagram socket's kernel rewrites it to the
    // socket's "port", learnt after the first send.
    uint16_t id = 0;
};

// RFC 1071 internet checksum; 0 when computed over a message whose checksum is right.
uint16_t internet_checksum(const unsigned char* data, size_t size) {
    uint32_t sum = 0;
    for (; size > 1; data += 2, size -= 2) sum += static_cast<uint32_t>(data[0] << 8 | data[1]);
    if (size == 1) sum += static_cast<uint32_t>(data[0] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return htons(static_cast<uint16_t>(~sum & 0xffff));
}

unsigned char payload_byte(uint16_t sequence, size_t index) {
    return static_cast<unsigned char>((index * 31 + sequence) & 0xff);
}

[[gnu::noipa]] Fd open_raw_icmp_socket(uint16_t id) {
    Fd fd(sys::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
    if (!fd) return fd;
    // Only echo replies: a raw socket also sees the requests looping back on lo.
    icmp_filter only_replies{.data = ~(1U << ICMP_ECHOREPLY)};
    if (sys::setsockopt(fd.get(), SOL_RAW, ICMP_FILTER, &only_replies, sizeof only_replies) != 0)
        throw Error(detail::errno_text("setsockopt(ICMP_FILTER) on a raw ICMP socket"));
    // Only replies carrying our identifier, as ping(8) does: a raw socket receives every
    // echo reply on the host, and other pingers' replies would fill its receive buffer
    // while this thread is not running, and the kernel would then drop ours.
    sock_filter only_ours[] = {
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),  // X = IP header length
        BPF_STMT(BPF_LD | BPF_H | BPF_IND, 4),   // A = ICMP echo identifier
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, id, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffffffffU),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    sock_fprog program{.len = std::size(only_ours), .filter = only_ours};
    if (sys::setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0)
        throw Error(detail::errno_text("setsockopt(SO_ATTACH_FILTER) on a raw ICMP socket"));
    return fd;
}

[[gnu::noipa]] Fd open_datagram_icmp_socket() {
    return Fd(sys::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP));
}

IcmpSocket open_icmp_socket(PingSocket kind) {
    int raw_errno = 0;
    if (kind != PingSocket::Datagram) {
        // The thread id keeps concurrent pingers in one process apart.
        const auto id = static_cast<uint16_t>(::syscall(SYS_gettid) & 0xffff);
        Fd fd = open_raw_icmp_socket(id);
        if (fd) return IcmpSocket{.fd = std::move(fd), .raw = true, .id = id};
        raw_errno = errno;
        if (kind == PingSocket::Raw)
            throw Error(detail::errno_text(
                "ping: cannot open a raw ICMP socket (needs root or CAP_NET_RAW)", raw_errno));
    }
    Fd fd = open_datagram_icmp_socket();
    if (fd) return IcmpSocket{.fd = std::move(fd), .raw = false, .id = 0};
    const int datagram_errno = errno;
    std::string message = "ping: cannot open an ICMP socket: ";
    if (kind == PingSocket::Auto)
        message += std::string("raw socket: ") + std::strerror(raw_errno) + "; ";
    message += std::string("datagram socket: ") + std::strerror(datagram_errno) +
               ". Run as root (or with CAP_NET_RAW), or allow your group ICMP datagram "
               "sockets, e.g. 'sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"'";
    throw Error(message);
}

sockaddr_in loopback_address() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

[[gnu::noipa]] void send_echo_request(IcmpSocket& socket, uint16_t sequence,
                                      std::vector<unsigned char>& packet) {
    icmphdr header{};
    header.type = ICMP_ECHO;
    header.code = 0;
    header.un.echo.id = htons(socket.id);
    header.un.echo.sequence = htons(sequence);
    std::memcpy(packet.data(), &header, sizeof header);
    for (size_t i = kIcmpHeaderSize; i < packet.size(); ++i)
        packet[i] = payload_byte(sequence, i - kIcmpHeaderSize);
    // A datagram socket computes the checksum itself, a raw one sends what we give it.
    header.checksum = internet_checksum(packet.data(), packet.size());
    std::memcpy(packet.data(), &header, sizeof header);

    const sockaddr_in to = loopback_address();
    ssize_t sent;
    do {
        sent = sys::sendto(socket.fd.get(), packet.data(), packet.size(), 0,
                           reinterpret_cast<const sockaddr*>(&to), sizeof to);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) throw Error(detail::errno_text("ping: sendto(127.0.0.1)"));
    if (static_cast<size_t>(sent) != packet.size())
        throw Error("ping: sent " + std::to_string(sent) + " of " + std::to_string(packet.size()) +
                    " bytes");

    if (!socket.raw && socket.id == 0) {
        sockaddr_in bound{};
        socklen_t length = sizeof bound;
        if (sys::getsockname(socket.fd.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0)
            throw Error(detail::errno_text("ping: getsockname() on the ICMP datagram socket"));
        socket.id = ntohs(bound.sin_port);
    }
}

enum class Reply { Ours, NotOurs };

// Checks one received message; throws on a reply to us that is damaged.
[[gnu::noipa]] Reply check_echo_reply(const IcmpSocket& socket, const unsigned char* data,
                                      size_t size, uint16_t sequence, size_t payload_size) {
    if (socket.raw) {
        if (size < sizeof(iphdr)) return Reply::NotOurs;
        iphdr ip;
        std::memcpy(&ip, data, sizeof ip);
        const size_t ip_header_size = ip.ihl * 4U;
        if (ip.protocol != IPPROTO_ICMP || ip_header_size < sizeof ip || ip_header_size > size)
            return Reply::NotOurs;
        data += ip_header_size;
        size -= ip_header_size;
    }
    if (size < kIcmpHeaderSize) return Reply::NotOurs;
    icmphdr header;
    std::memcpy(&header, data, sizeof header);
    if (header.type != ICMP_ECHOREPLY || ntohs(header.un.echo.id) != socket.id)
        return Reply::NotOurs;
    // A late reply to an earlier request.
    if (ntohs(header.un.echo.sequence) != sequence) return Reply::NotOurs;

    const std::string which = "ping: echo reply " + std::to_string(sequence);
    if (header.code != 0) throw Error(which + " has code " + std::to_string(header.code));
    if (internet_checksum(data, size) != 0) throw Error(which + " has a bad checksum");
    if (size != kIcmpHeaderSize + payload_size)
        throw Error(which + " carries " + std::to_string(size - kIcmpHeaderSize) +
                    " payload bytes, sent " + std::to_string(payload_size));
    for (size_t i = 0; i < payload_size; ++i)
        if (data[kIcmpHeaderSize + i] != payload_byte(sequence, i))
            throw Error(which + " payload differs at byte " + std::to_string(i));
    return Reply::Ours;
}

// Waits up to kResendMs for the reply to SEQUENCE; false if it did not come.
[[gnu::noipa]] bool wait_echo_reply(const IcmpSocket& socket, uint16_t sequence,
                                    size_t payload_size, std::vector<unsigned char>& buffer) {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(kResendMs);
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        pollfd readable{.fd = socket.fd.get(), .events = POLLIN, .revents = 0};
        const int ready = sys::poll(&readable, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno != EINTR) throw Error(detail::errno_text("ping: poll()"));
        if (ready <= 0) continue;
        const ssize_t n = sys::recv(socket.fd.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            throw Error(detail::errno_text("ping: recv()"));
        }
        if (check_echo_reply(socket, buffer.data(), static_cast<size_t>(n), sequence,
                             payload_size) == Reply::Ours)
            return true;
    }
}

}  // namespace

[[gnu::noipa]] Result run_ping(const Options& options, std::stop_token stop, PingSocket kind) {
    const size_t payload_size = options.size == 0 ? kDefaultPingPayload : options.size;
    if (payload_size > kMaxPingPayload)
        throw Error("ping: --size " + std::to_string(payload_size) +
                    " does not fit an IPv4 packet; use at most " + std::to_string(kMaxPingPayload) +
                    " bytes");

    IcmpSocket socket = open_icmp_socket(kind);
    std::vector<unsigned char> packet(kIcmpHeaderSize + payload_size);
    std::vector<unsigned char> buffer(65536 + 64);

    const detail::StopCondition until(options, std::move(stop));
    Result result;
    result.name = "ping";
    uint16_t sequence = 0;
    int unanswered_ms = 0;
    while (!until.done(result.ops)) {
        send_echo_request(socket, sequence, packet);
        if (wait_echo_reply(socket, sequence, payload_size, buffer)) {
            ++result.ops;
            unanswered_ms = 0;
        } else {
            ++result.unanswered;
            unanswered_ms += kResendMs;
            if (unanswered_ms >= kReplyTimeoutMs)
                throw Error("ping: no echo reply from 127.0.0.1 within " +
                            std::to_string(kReplyTimeoutMs / 1000) +
                            " s; is the loopback interface up and "
                            "net.ipv4.icmp_echo_ignore_all 0?");
        }
        ++sequence;
    }
    result.seconds = until.elapsed_s();
    result.interrupted = until.interrupted();
    result.detail = socket.raw ? "raw socket" : "datagram socket";
    return result;
}

}  // namespace kprof::workloads
