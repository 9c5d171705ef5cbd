#include "spyglass/names.h"

#include "spyglass/error.h"

namespace spyglass::core {

void throwUnknownName(std::string_view what, std::string_view text, const std::string& choices)
{
    throw Error("unknown " + std::string(what) + " '" + std::string(text) + "' (" + choices + ")");
}

}  // namespace spyglass::core
