#pragma once
// RemoteTarget — where the Remote (SSH) device runs requests: `ssh HOST 'CLI' serve --stdio`
// (docs/serve-protocol.md). Authentication and encryption are SSH's (keys or an agent: ssh runs in
// batch mode, it never asks for a password); Spyglass opens no port. With no host, CLI itself is
// started as a local process — a server install checked without SSH, and what the tests use.
#include <QString>
#include <QStringList>

namespace spyglass::ui {

struct RemoteTarget {
    QString host;                                      // as ssh takes it: user@host, or a Host alias
    QString cliPath = QStringLiteral("spyglass-cli");  // on the server

    [[nodiscard]] bool valid() const { return !cliPath.trimmed().isEmpty(); }
    [[nodiscard]] QString label() const { return host.isEmpty() ? cliPath + QStringLiteral(" (local process)") : host; }
    [[nodiscard]] QString program() const { return host.isEmpty() ? cliPath : QStringLiteral("ssh"); }
    [[nodiscard]] QStringList arguments() const
    {
        if (host.isEmpty()) return {QStringLiteral("serve"), QStringLiteral("--stdio")};
        // The remote command is one shell line on the server: the path is quoted for it.
        QString quoted = cliPath;
        quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
        return {QStringLiteral("-T"), QStringLiteral("-o"), QStringLiteral("BatchMode=yes"), QStringLiteral("-o"),
                QStringLiteral("ConnectTimeout=15"),
                // a dead network is noticed within ~45 s: ssh exits and the app says so
                QStringLiteral("-o"), QStringLiteral("ServerAliveInterval=15"), QStringLiteral("-o"),
                QStringLiteral("ServerAliveCountMax=3"), host, QStringLiteral("--"),
                QLatin1Char('\'') + quoted + QStringLiteral("' serve --stdio")};
    }

    friend bool operator==(const RemoteTarget&, const RemoteTarget&) = default;
};

}  // namespace spyglass::ui
