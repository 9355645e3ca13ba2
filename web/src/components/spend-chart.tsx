import type { AgentDetailQuery } from "../generated/graphql";
import { formatMoney, moneyValue } from "../format";

type SpendWindow = AgentDetailQuery["spendReport"]["windows"][number];

const WIDTH = 640;
const ROW = 44;
const LABEL = 70;
const TRACK = WIDTH - LABEL - 190;

/** The tightest cap on the window, the one that binds first. */
function bindingCap(window: SpendWindow) {
  return window.caps.reduce<SpendWindow["caps"][number] | undefined>(
    (least, cap) => (least === undefined || BigInt(cap.remaining) < BigInt(least.remaining) ? cap : least),
    undefined,
  );
}

export function describeWindow(window: SpendWindow): string {
  const cap = bindingCap(window);
  const spent = formatMoney(window.spent);
  if (!cap) return `${window.window}: spent ${spent}, no cap`;
  const share = moneyValue(cap.limit) > 0 ? Math.round((moneyValue(window.spent) / moneyValue(cap.limit)) * 100) : 100;
  return `${window.window}: spent ${spent} of ${formatMoney(cap.limit)} cap (${share}%)`;
}

/**
 * Spend in each current window against the cap that binds it: the track is the cap's limit,
 * the bar settled spend then reserved spend (lighter); a window without a cap shows its
 * spend only (dashed track). The figure's text says the same for screen readers.
 */
export function SpendChart({ windows }: { windows: readonly SpendWindow[] }) {
  const height = windows.length * ROW + 10;
  // A window without a cap is drawn on the scale of the largest figure on the chart, so its bar reads as an amount, not as "full".
  const reference = Math.max(1, ...windows.map((window) => Math.max(moneyValue(window.spent), moneyValue(bindingCap(window)?.limit ?? "0"))));
  return (
    <figure className="spend-chart">
      <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={windows.map(describeWindow).join("; ")}>
        {windows.map((window, index) => {
          const cap = bindingCap(window);
          const y = index * ROW + 8;
          const limit = cap ? moneyValue(cap.limit) : 0;
          const scale = limit > 0 ? Math.max(limit, moneyValue(window.spent)) : reference;
          const settled = (moneyValue(window.settled) / scale) * TRACK;
          const reserved = (moneyValue(window.reserved) / scale) * TRACK;
          const over = cap && moneyValue(window.spent) > limit;
          return (
            <g key={window.window}>
              <text x={0} y={y + 20} className="chart-label">
                {window.window}
              </text>
              <rect x={LABEL} y={y} width={TRACK} height={28} rx={4} className={cap ? "chart-track" : "chart-track uncapped"} />
              <rect x={LABEL} y={y} width={settled} height={28} rx={4} className={over ? "chart-bar over" : "chart-bar"} />
              <rect x={LABEL + settled} y={y} width={reserved} height={28} className="chart-bar reserved" />
              {cap && limit > 0 && <line x1={LABEL + (limit / scale) * TRACK} x2={LABEL + (limit / scale) * TRACK} y1={y - 3} y2={y + 31} className="chart-limit" />}
              <text x={LABEL + TRACK + 10} y={y + 20} className="chart-value">
                {cap ? `${formatMoney(window.spent)} / ${formatMoney(cap.limit)}` : `${formatMoney(window.spent)} (no cap)`}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>
        Spend in the current hour, day, week, month and in total, against the tightest cap on each (settled dark, reserved light).
      </figcaption>
    </figure>
  );
}
