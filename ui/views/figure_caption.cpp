#include "views/figure_caption.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace spyglass::ui {

namespace {

QString decoding(const QJsonObject& settings)
{
    const QJsonValue d = settings.value(QStringLiteral("decoding"));
    if (!d.isObject()) return QStringLiteral("greedy");
    const QJsonObject o = d.toObject();
    QString text = QStringLiteral("sampled at T=%1").arg(o.value(QStringLiteral("temperature")).toDouble());
    if (o.value(QStringLiteral("top_k")).toInt() > 0)
        text += QStringLiteral(", top-k %1").arg(o.value(QStringLiteral("top_k")).toInt());
    if (o.value(QStringLiteral("top_p")).toDouble(1) < 1)
        text += QStringLiteral(", top-p %1").arg(o.value(QStringLiteral("top_p")).toDouble());
    return text + QStringLiteral(", seed %1").arg(settings.value(QStringLiteral("seed")).toInteger());
}

QString shortened(QString text, int length)
{
    text = text.simplified();
    return text.size() > length ? text.left(length - 1) + QStringLiteral("…") : text;
}

}  // namespace

FigureCaption figureCaption(const core::Report& report, const QString& view)
{
    const QJsonObject s = QJsonDocument::fromJson(QByteArray::fromStdString(report.settingsJson)).object();
    FigureCaption c;
    if (view == QLatin1String("saliency")) {
        const QJsonObject sal = s.value(QStringLiteral("saliency")).toObject();
        QStringList methods;
        for (const auto& m : sal.value(QStringLiteral("methods")).toArray()) methods << m.toString();
        c.title = QStringLiteral("Input saliency — %1 (%2)")
                      .arg(methods.join(QStringLiteral(", ")), sal.value(QStringLiteral("target")).toString());
    } else if (view == QLatin1String("lens")) {
        c.title = QStringLiteral("Logit lens — %1 mode")
                      .arg(s.value(QStringLiteral("lens")).toObject().value(QStringLiteral("mode")).toString());
    } else if (view == QLatin1String("factors") && report.factors) {
        const auto& f = *report.factors;
        c.title = QStringLiteral("Activation factors — NMF of MLP activations, k = %1, layers %2–%3")
                      .arg(f.k)
                      .arg(f.layers.empty() ? 0 : f.layers.front())
                      .arg(f.layers.empty() ? 0 : f.layers.back());
    } else if (view == QLatin1String("projection") && report.projection) {
        const auto& p = *report.projection;
        c.title = QStringLiteral("Activation map — %1 of %2, layer %3")
                      .arg(QString::fromStdString(core::nameString(p.method)).toUpper(),
                           QString::fromStdString(core::nameString(p.source)))
                      .arg(p.layer);
    } else if (view == QLatin1String("attention")) {
        c.title = QStringLiteral("Attention — where the selected token looks, per layer and head");
    } else {
        c.title = view;
    }
    int generated = 0;
    for (const auto& t : report.tokens) generated += t.generated ? 1 : 0;
    c.subtitle = QStringLiteral("%1 · %2 · sha256 %3… · prompt “%4” + %5 generated tokens, %6 · Spyglass %7")
                     .arg(QString::fromStdString(report.model.architecture),
                          QFileInfo(QString::fromStdString(report.model.path)).fileName(),
                          QString::fromStdString(report.model.sha256.substr(0, 12)),
                          shortened(s.value(QStringLiteral("prompt")).toString(), 60))
                     .arg(generated)
                     .arg(decoding(s), s.value(QStringLiteral("spyglass_version")).toString());
    return c;
}

}  // namespace spyglass::ui
