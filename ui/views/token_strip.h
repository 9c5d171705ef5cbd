#pragma once
// TokenStrip — the text as a flow of token boxes, each with its own background colour and
// tooltip (Ecco-style). Clicking a token emits tokenClicked; the selected token is outlined.
#include <QColor>
#include <QString>
#include <QVector>
#include <QWidget>

namespace spyglass::ui {

class TokenStrip : public QWidget {
    Q_OBJECT
public:
    struct Token {
        QString text;
        QColor background = Qt::transparent;
        QString toolTip;
        bool generated = false;
    };

    explicit TokenStrip(QWidget* parent = nullptr);
    void setTokens(QVector<Token> tokens);
    void setSelected(int position);
    [[nodiscard]] const QVector<Token>& tokens() const { return m_tokens; }
    [[nodiscard]] int selected() const { return m_selected; }
    // A token as a label: white space made visible (␣ ↵ →), line breaks never break the label.
    [[nodiscard]] static QString label(const QString& text);

    [[nodiscard]] bool hasHeightForWidth() const override { return true; }
    [[nodiscard]] int heightForWidth(int width) const override;
    [[nodiscard]] QSize sizeHint() const override;

signals:
    void tokenClicked(int position);
    void tokenHovered(int position);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;

private:
    [[nodiscard]] QVector<QRect> layoutFor(int width) const;
    [[nodiscard]] int tokenAt(const QPoint& point) const;

    QVector<Token> m_tokens;
    int m_selected = -1;
    int m_hovered = -1;
};

}  // namespace spyglass::ui
