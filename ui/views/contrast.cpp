#include "views/contrast.h"

#include <algorithm>
#include <cmath>

namespace spyglass::ui {

namespace {

double linear(double channel)
{
    return channel <= 0.04045 ? channel / 12.92 : std::pow((channel + 0.055) / 1.055, 2.4);
}

double luminance(const QColor& c)
{
    return 0.2126 * linear(c.redF()) + 0.7152 * linear(c.greenF()) + 0.0722 * linear(c.blueF());
}

}  // namespace

QColor composited(const QColor& background, const QColor& underneath)
{
    const double a = background.alphaF();
    return QColor::fromRgbF(static_cast<float>(a * background.redF() + (1 - a) * underneath.redF()),
                            static_cast<float>(a * background.greenF() + (1 - a) * underneath.greenF()),
                            static_cast<float>(a * background.blueF() + (1 - a) * underneath.blueF()));
}

double contrastRatio(const QColor& a, const QColor& b)
{
    const double la = luminance(a);
    const double lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

QColor readableTextOn(const QColor& background, const QColor& underneath)
{
    const QColor shown = composited(background, underneath);
    return contrastRatio(shown, Qt::black) >= contrastRatio(shown, Qt::white) ? QColor(Qt::black) : QColor(Qt::white);
}

}  // namespace spyglass::ui
