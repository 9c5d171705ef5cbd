#pragma once
// The frames of `spyglass-cli serve --stdio` (docs/serve-protocol.md): each message is one line of
// UTF-8 JSON (an object, ending in '\n'); a header whose "binary" lists payloads
// ([{"name": N, "bytes": K}, …]) is followed by exactly those bytes, in order, with no separator.
//
//   FrameReader r;  r.feed(bytes, n);  while (auto f = r.next()) handle(*f);
//   write(fd, encodeFrame({{"type", "result"}, …}, {{"report.json", text}}));
//
// A malformed frame (not JSON, not an object, a line or payload over the limits, a bad "binary"
// list) throws Error naming what is wrong; the reader drops that line and reads on, so a peer's
// mistake costs one message, never the connection. Torch-free, so that it can be fuzzed.
// Thread safety: one reader per stream.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace spyglass::core {

struct Frame {
    nlohmann::json header;
    std::vector<std::pair<std::string, std::string>> payloads;  // name → bytes, in the header's order
};

class FrameReader {
public:
    static constexpr size_t kMaxLine = size_t{16} << 20;     // 16 MiB of JSON
    static constexpr size_t kMaxPayloads = size_t{1} << 30;  // 1 GiB of payload bytes per frame

    explicit FrameReader(size_t maxLine = kMaxLine, size_t maxPayloads = kMaxPayloads)
        : m_maxLine(maxLine), m_maxPayloads(maxPayloads)
    {
    }
    void feed(const char* data, size_t size) { m_buffer.append(data, size); }
    // The next complete frame; nullopt when more bytes are needed. Throws Error for a malformed one
    // (which is dropped).
    [[nodiscard]] std::optional<Frame> next();
    // Bytes received but not yet part of a frame (a partial line or payload).
    [[nodiscard]] size_t pending() const { return m_buffer.size() - m_offset; }

private:
    std::string m_buffer;
    size_t m_offset = 0;
    size_t m_maxLine, m_maxPayloads;
    // A header read whose payloads are still arriving.
    std::optional<Frame> m_waiting;
    std::vector<size_t> m_sizes;
    void compact();
};

// The bytes of one frame: `header` with "binary" set from `payloads` (omitted when none), a '\n',
// then the payloads.
[[nodiscard]] std::string encodeFrame(nlohmann::json header,
                                      const std::vector<std::pair<std::string, std::string>>& payloads = {});

}  // namespace spyglass::core
