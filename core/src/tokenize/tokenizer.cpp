#include "spyglass/tokenizer.h"

#include "tokenize/tokenizer_impl.h"

namespace spyglass::core {

Tokenizer::Tokenizer(std::unique_ptr<TokenizerImpl> impl) : m_impl(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Encoding Tokenizer::encode(std::string_view text) const
{
    return m_impl->encode(text);
}

std::string Tokenizer::decode(const std::vector<int>& ids) const
{
    return m_impl->decode(ids, std::nullopt);
}
std::string Tokenizer::decodeAfter(int previous, const std::vector<int>& ids) const
{
    return m_impl->decode(ids, previous);
}

std::string Tokenizer::tokenBytes(int id) const
{
    return m_impl->tokenBytes(id);
}
std::string Tokenizer::tokenText(int id) const
{
    return sanitizeUtf8(m_impl->tokenBytes(id));
}
int Tokenizer::vocabSize() const
{
    return m_impl->vocabSize();
}
bool Tokenizer::addsBos() const
{
    return !m_impl->prefixIds.empty();
}
std::optional<int> Tokenizer::bosId() const
{
    return m_impl->bos;
}
std::optional<int> Tokenizer::eosId() const
{
    return m_impl->eos;
}
const std::string& Tokenizer::source() const
{
    return m_impl->source;
}

std::optional<int> Tokenizer::tokenToId(std::string_view token) const
{
    return m_impl->find(token);
}

}  // namespace spyglass::core
