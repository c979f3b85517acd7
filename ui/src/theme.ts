// Follow the host Airflow UI: its font and its light/dark mode (read from the parent page, which
// is the same origin), else the system's preference when the page is opened on its own.

function hostDocument(): Document | null {
  try {
    if (window.parent !== window && window.parent.document) return window.parent.document;
  } catch {
    /* not same origin: stand alone */
  }
  return null;
}

function hostIsDark(host: Document | null): boolean {
  if (host) {
    const root = host.documentElement;
    if (root.classList.contains("dark") || root.dataset.theme === "dark") return true;
    if (root.classList.contains("light") || root.dataset.theme === "light") return false;
    const scheme = root.style.colorScheme || getComputedStyle(root).colorScheme;
    if (scheme === "dark") return true;
    if (scheme === "light") return false;
  }
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
}

export type ThemeListener = (dark: boolean) => void;
const listeners: ThemeListener[] = [];

export function onThemeChange(fn: ThemeListener): void {
  listeners.push(fn);
}

export function isDark(): boolean {
  return document.documentElement.dataset.theme === "dark";
}

function apply(dark: boolean): void {
  const before = isDark();
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  if (before !== dark) listeners.forEach((fn) => fn(dark));
}

export function initTheme(): void {
  const host = hostDocument();
  if (host) {
    try {
      const font = getComputedStyle(host.body).fontFamily;
      if (font) document.documentElement.style.setProperty("--font", font);
    } catch {
      /* keep the default font */
    }
    new MutationObserver(() => apply(hostIsDark(host))).observe(host.documentElement, {
      attributes: true,
      attributeFilter: ["class", "style", "data-theme"],
    });
  }
  window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener("change", () => apply(hostIsDark(host)));
  document.documentElement.dataset.theme = hostIsDark(host) ? "dark" : "light";
}

export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
