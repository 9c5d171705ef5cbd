#include "spyglass/serve_frames.h"

#include "spyglass/error.h"

namespace spyglass::core {

void FrameReader::compact()
{
    if (m_offset > 0 && (m_offset > (1u << 20) || m_offset * 2 > m_buffer.size())) {
        m_buffer.erase(0, m_offset);
        m_offset = 0;
    }
}

std::optional<Frame> FrameReader::next()
{
    if (!m_waiting) {
        const size_t end = m_buffer.find('\n', m_offset);
        if (end == std::string::npos) {
            if (m_buffer.size() - m_offset > m_maxLine) {
                // No newline within the limit: drop what came so far, resynchronise at the next line.
                m_buffer.clear();
                m_offset = 0;
                throw Error("a frame line longer than " + std::to_string(m_maxLine) + " bytes (dropped)");
            }
            return std::nullopt;
        }
        const std::string line = m_buffer.substr(m_offset, end - m_offset);
        m_offset = end + 1;
        compact();
        if (line.size() > m_maxLine)
            throw Error("a frame line longer than " + std::to_string(m_maxLine) + " bytes (dropped)");
        Frame frame;
        try {
            frame.header = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            throw Error(std::string("a frame that is not JSON (") + e.what() + ")");
        }
        if (!frame.header.is_object()) throw Error("a frame that is not a JSON object");
        m_sizes.clear();
        if (frame.header.contains("binary")) {
            const auto& list = frame.header["binary"];
            if (!list.is_array()) throw Error("a frame whose \"binary\" is not a list");
            size_t total = 0;
            for (const auto& item : list) {
                if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
                    !item.contains("bytes") || !item["bytes"].is_number_unsigned())
                    throw Error("a frame whose \"binary\" entries are not {\"name\": text, \"bytes\": count}");
                const auto bytes = item["bytes"].get<uint64_t>();
                if (bytes > m_maxPayloads || total + bytes > m_maxPayloads)
                    throw Error("a frame announcing more than " + std::to_string(m_maxPayloads) + " payload bytes");
                total += static_cast<size_t>(bytes);
                m_sizes.push_back(static_cast<size_t>(bytes));
                frame.payloads.emplace_back(item["name"].get<std::string>(), std::string());
            }
        }
        if (m_sizes.empty()) return frame;
        m_waiting = std::move(frame);
    }
    size_t total = 0;
    for (size_t s : m_sizes) total += s;
    if (m_buffer.size() - m_offset < total) return std::nullopt;
    Frame frame = std::move(*m_waiting);
    m_waiting.reset();
    for (size_t i = 0; i < m_sizes.size(); ++i) {
        frame.payloads[i].second = m_buffer.substr(m_offset, m_sizes[i]);
        m_offset += m_sizes[i];
    }
    m_sizes.clear();
    compact();
    return frame;
}

std::string encodeFrame(nlohmann::json header, const std::vector<std::pair<std::string, std::string>>& payloads)
{
    if (!payloads.empty()) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& [name, bytes] : payloads) list.push_back({{"name", name}, {"bytes", bytes.size()}});
        header["binary"] = std::move(list);
    }
    std::string out = header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += '\n';
    for (const auto& [name, bytes] : payloads) out += bytes;
    return out;
}

}  // namespace spyglass::core
