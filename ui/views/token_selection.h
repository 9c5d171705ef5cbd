#pragma once
// TokenSelection — the one selected token position shared by every view (hover or click in any
// view selects it everywhere). GUI thread only.
#include <QObject>

namespace spyglass::ui {

class TokenSelection : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    [[nodiscard]] int position() const { return m_position; }
    void select(int position)
    {
        if (position == m_position) return;
        m_position = position;
        emit positionChanged(position);
    }

signals:
    void positionChanged(int position);

private:
    int m_position = -1;
};

}  // namespace spyglass::ui
