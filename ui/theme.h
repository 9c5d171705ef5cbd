#pragma once
// The app's palettes: the platform's own, a light one and a dark one (View ▸ Theme, kept in
// QSettings "theme"). Views pick text colours by contrast, so both stay readable.
#include <QPalette>
#include <QString>

namespace spyglass::ui {

enum class Theme { System, Light, Dark };

[[nodiscard]] QPalette darkPalette();
// Applies `theme` to the whole application.
void applyTheme(Theme theme);
[[nodiscard]] Theme themeFromName(const QString& name);  // "light", "dark", anything else: System
[[nodiscard]] QString themeName(Theme theme);

}  // namespace spyglass::ui
