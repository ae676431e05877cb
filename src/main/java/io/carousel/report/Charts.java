package io.carousel.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;

/**
 * One key's chart: the series with its forecast and interval band, the anomaly score under it,
 * the labelled runs as shaded bands across both, the flagged rows as dots.
 *
 * <p>Lines are drawn from at most two points per pixel column: each column's minimum and maximum
 * (in the order they occur), so a one-row spike in a 22,000-row series is as tall as it is. Flagged
 * rows, labelled runs (at least 2 px wide) and model changes are drawn one by one, never bucketed.
 */
final class Charts {

    static final double WIDTH = 1200;
    static final double LEFT = 66;
    static final double RIGHT = 14;
    static final double PLOT_W = WIDTH - LEFT - RIGHT;
    static final double VALUE_TOP = 18;
    static final double VALUE_H = 250;
    static final double SCORE_TOP = VALUE_TOP + VALUE_H + 22;
    static final double SCORE_H = 110;
    static final double HEIGHT = SCORE_TOP + SCORE_H + 24;

    static final String VALUE = "#1f5f99";
    static final String FORECAST = "#e8750a";
    static final String BAND = "#5b9bd5";
    static final String SCORE = "#6a3d9a";
    static final String FLAG = "#d62728";
    static final String LABEL = "#f2b233";
    static final String GRID = "#e6e6e6";
    static final String AXIS = "#999999";
    static final String TEXT = "#444444";

    /** The score axis: {@code -log10(1 - score)}, so 0.9, 0.99, 0.999 ... are evenly spaced. */
    static double scoreT(double s) {
        return -Math.log10(Math.max(1 - s, 1e-15));
    }

    private Charts() {}

    /** Row positions: row i is centred in its share of the plot's width. */
    static final class XAxis {
        final int n;
        final int buckets;
        final boolean bucketed;

        XAxis(int n) {
            this.n = Math.max(n, 1);
            this.buckets = (int) PLOT_W;
            this.bucketed = n > 2 * buckets;
        }

        double center(int i) {
            return LEFT + (i + 0.5) * PLOT_W / n;
        }

        double start(int i) {
            return LEFT + (double) i * PLOT_W / n;
        }

        double end(int i) {
            return LEFT + (i + 1.0) * PLOT_W / n;
        }

        int bucket(int i) {
            return (int) ((long) i * buckets / n);
        }

        double bucketX(int b) {
            return LEFT + (b + 0.5) * PLOT_W / buckets;
        }
    }

    /** Points of polylines, broken where there is no value. */
    private static final class Parts {
        final List<double[]> parts = new ArrayList<>();
        double[] cur = new double[64];
        int len;

        void add(double x, double y) {
            if (len + 2 > cur.length) {
                cur = java.util.Arrays.copyOf(cur, cur.length * 2);
            }
            cur[len++] = x;
            cur[len++] = y;
        }

        void breakLine() {
            if (len > 0) {
                parts.add(java.util.Arrays.copyOf(cur, len));
            }
            len = 0;
        }

        List<double[]> done() {
            breakLine();
            return parts;
        }
    }

    /** A column's polyline: every row, or per pixel column its minimum and maximum in order. */
    static List<double[]> line(double[] a, int n, XAxis x, DoubleUnaryOperator y) {
        Parts p = new Parts();
        if (!x.bucketed) {
            for (int i = 0; i < n; i++) {
                if (Double.isFinite(a[i])) {
                    p.add(x.center(i), y.applyAsDouble(a[i]));
                } else {
                    p.breakLine();
                }
            }
            return p.done();
        }
        int b = 0;
        int minI = -1;
        int maxI = -1;
        for (int i = 0; i <= n; i++) {
            int bi = i < n ? x.bucket(i) : -1;
            if (bi != b) {
                if (minI < 0) {
                    p.breakLine();
                } else {
                    double bx = x.bucketX(b);
                    int first = Math.min(minI, maxI);
                    int second = Math.max(minI, maxI);
                    p.add(bx, y.applyAsDouble(a[first]));
                    if (second != first) {
                        p.add(bx, y.applyAsDouble(a[second]));
                    }
                }
                b = bi;
                minI = -1;
                maxI = -1;
            }
            if (i < n && Double.isFinite(a[i])) {
                if (minI < 0 || a[i] < a[minI]) {
                    minI = i;
                }
                if (maxI < 0 || a[i] > a[maxI]) {
                    maxI = i;
                }
            }
        }
        return p.done();
    }

    /** The interval as polygons: the highest upper and lowest lower per pixel column, broken where there is none. */
    static List<double[]> band(double[] lo, double[] hi, int n, XAxis x, DoubleUnaryOperator y) {
        List<double[]> polys = new ArrayList<>();
        List<double[]> run = new ArrayList<>(); // x, y(upper), y(lower)
        int b = x.bucketed ? 0 : -1;
        double bl = Double.NaN;
        double bh = Double.NaN;
        for (int i = 0; i <= n; i++) {
            boolean ok = i < n && Double.isFinite(lo[i]) && Double.isFinite(hi[i]);
            if (!x.bucketed) {
                if (ok) {
                    run.add(new double[] {x.center(i), y.applyAsDouble(hi[i]), y.applyAsDouble(lo[i])});
                } else {
                    flushBand(run, polys);
                }
                continue;
            }
            int bi = i < n ? x.bucket(i) : -1;
            if (bi != b) {
                if (Double.isNaN(bl)) {
                    flushBand(run, polys);
                } else {
                    run.add(new double[] {x.bucketX(b), y.applyAsDouble(bh), y.applyAsDouble(bl)});
                }
                b = bi;
                bl = Double.NaN;
                bh = Double.NaN;
            }
            if (ok) {
                bl = Double.isNaN(bl) ? lo[i] : Math.min(bl, lo[i]);
                bh = Double.isNaN(bh) ? hi[i] : Math.max(bh, hi[i]);
            }
        }
        flushBand(run, polys);
        return polys;
    }

    private static void flushBand(List<double[]> run, List<double[]> polys) {
        if (run.isEmpty()) {
            return;
        }
        double[] poly = new double[run.size() * 4];
        int k = 0;
        for (double[] p : run) {
            poly[k++] = p[0];
            poly[k++] = p[1];
        }
        for (int j = run.size() - 1; j >= 0; j--) {
            poly[k++] = run.get(j)[0];
            poly[k++] = run.get(j)[2];
        }
        polys.add(poly);
        run.clear();
    }

    /** Round tick values covering [lo, hi], about {@code target} of them. */
    static double[] ticks(double lo, double hi, int target) {
        double step = nice((hi - lo) / target);
        double first = Math.ceil(lo / step) * step;
        List<Double> t = new ArrayList<>();
        for (double v = first; v <= hi + step * 1e-9; v += step) {
            t.add(Math.abs(v) < step * 1e-9 ? 0 : v);
        }
        return t.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double nice(double x) {
        double e = Math.pow(10, Math.floor(Math.log10(x)));
        double f = x / e;
        return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * e;
    }

    static String tickLabel(double v, double step) {
        int decimals = (int) Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
        return String.format(Locale.ROOT, "%,." + decimals + "f", v);
    }

    /** The chart of one key. */
    static Scene key(KeySeries s, List<Evaluation.Run> runs, double threshold, boolean labelled) {
        Scene scene = new Scene(WIDTH, HEIGHT);
        int n = s.size();
        XAxis x = new XAxis(n);

        // value scale: the values' range (forecasts and the band are clipped to it)
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double[] col : new double[][] {s.values(), s.forecasts()}) {
            for (int i = 0; i < n; i++) {
                if (Double.isFinite(col[i])) {
                    lo = Math.min(lo, col[i]);
                    hi = Math.max(hi, col[i]);
                }
            }
            if (lo <= hi) {
                break; // the values alone, unless there are none (a nested feature)
            }
        }
        if (!(lo <= hi)) {
            lo = 0;
            hi = 1;
        }
        if (hi - lo < 1e-9 * Math.max(1, Math.abs(hi))) {
            lo -= 1;
            hi += 1;
        }
        double pad = (hi - lo) * 0.06;
        double vlo = lo - pad;
        double vhi = hi + pad;
        DoubleUnaryOperator yv = v -> VALUE_TOP + VALUE_H - (v - vlo) / (vhi - vlo) * VALUE_H;

        double thrT = scoreT(threshold);
        double topT = Math.ceil(thrT - 1e-6) + 2;
        DoubleUnaryOperator ys = sc -> SCORE_TOP + SCORE_H - Math.min(scoreT(sc), topT) / topT * SCORE_H;

        scene.shapes.add(new Scene.Text(LEFT, VALUE_TOP - 6, "value, forecast and its interval", 11, "start", TEXT, false));
        scene.shapes.add(new Scene.Text(LEFT, SCORE_TOP - 6, "anomaly score (spaced by 1 \u2212 score: 0.9, 0.99, 0.999, \u2026)",
                11, "start", TEXT, false));

        // background: warm-up (score panel), labelled runs (both panels)
        for (int i = 0; i < n; ) {
            if (s.warm(i)) {
                i++;
                continue;
            }
            int first = i;
            while (i < n && !s.warm(i)) {
                i++;
            }
            double wx = x.start(first);
            double ww = x.end(i - 1) - wx;
            scene.shapes.add(new Scene.Rect(wx, SCORE_TOP, ww, SCORE_H, Scene.Style.fill("#000000", 0.06),
                    new Scene.Meta("warmup", "warm-up: " + s.timestamp(first) + " to " + s.timestamp(i - 1)
                            + " (" + (i - first) + " rows), nothing is flagged", Map.of())));
            if (ww > 70) {
                scene.shapes.add(new Scene.Text(wx + 4, SCORE_TOP + SCORE_H - 5, "warm-up", 10, "start", "#777777", false));
            }
        }
        for (Evaluation.Run r : runs) {
            double rx = x.start(r.first());
            double rw = x.end(r.last()) - rx;
            if (rw < 2) {
                rx -= (2 - rw) / 2;
                rw = 2;
            }
            Map<String, String> data = new LinkedHashMap<>();
            data.put("first", s.timestamp(r.first()));
            data.put("last", s.timestamp(r.last()));
            data.put("rows", Integer.toString(r.rows()));
            data.put("detected", Boolean.toString(r.detected()));
            String title = "labelled anomaly: " + (r.rows() == 1 ? s.timestamp(r.first())
                    : s.timestamp(r.first()) + " to " + s.timestamp(r.last()) + " (" + r.rows() + " rows)")
                    + (r.detected() ? ", found: first flagged at " + s.timestamp(r.firstFlag()) : ", missed: no row flagged");
            scene.shapes.add(new Scene.Rect(rx, VALUE_TOP, rw, VALUE_H, Scene.Style.fill(LABEL, 0.35),
                    new Scene.Meta("label-run", title, data)));
            scene.shapes.add(new Scene.Rect(rx, SCORE_TOP, rw, SCORE_H, Scene.Style.fill(LABEL, 0.35), Scene.Meta.NONE));
        }

        // grid and axes
        double[] vt = ticks(vlo, vhi, 5);
        double vstep = vt.length > 1 ? vt[1] - vt[0] : Math.max(Math.abs(vhi), 1);
        for (double t : vt) {
            double y = yv.applyAsDouble(t);
            scene.shapes.add(Scene.line(LEFT, y, LEFT + PLOT_W, y, Scene.Style.stroke(GRID, 1)));
            scene.shapes.add(new Scene.Text(LEFT - 6, y + 4, tickLabel(t, vstep), 11, "end", TEXT, false));
        }
        for (int k = 0; k <= topT; k++) {
            double y = SCORE_TOP + SCORE_H - k / topT * SCORE_H;
            scene.shapes.add(Scene.line(LEFT, y, LEFT + PLOT_W, y, Scene.Style.stroke(GRID, 1)));
            String label = k == 0 ? "0" : "0." + "9".repeat(k);
            if (k % (topT > 6 ? 2 : 1) == 0) {
                scene.shapes.add(new Scene.Text(LEFT - 6, y + 4, label, 10, "end", TEXT, false));
            }
        }
        int[] xt = xTicks(n, 6);
        for (int j = 0; j < xt.length; j++) {
            double tx = x.center(xt[j]);
            scene.shapes.add(Scene.line(tx, VALUE_TOP, tx, VALUE_TOP + VALUE_H, Scene.Style.stroke(GRID, 1)));
            scene.shapes.add(Scene.line(tx, SCORE_TOP, tx, SCORE_TOP + SCORE_H + 4, Scene.Style.stroke(GRID, 1)));
            String anchor = xt.length == 1 ? "start" : j == 0 ? "start" : j == xt.length - 1 ? "end" : "middle";
            double ax = anchor.equals("start") ? Math.min(tx, LEFT) : anchor.equals("end") ? Math.max(tx, LEFT + PLOT_W) : tx;
            scene.shapes.add(new Scene.Text(ax, SCORE_TOP + SCORE_H + 17, s.timestamp(xt[j]), 11, anchor, TEXT, false));
        }

        // the value panel: band, value, forecast (clipped), model changes, flags
        List<Scene.Shape> value = new ArrayList<>();
        value.add(new Scene.Path(band(s.lowers(), s.uppers(), n, x, yv), true, Scene.Style.fill(BAND, 0.22),
                Scene.Meta.of("band")));
        // the forecast under the value: where they coincide the value shows, where the forecast misses it peeks out
        value.add(new Scene.Path(line(s.forecasts(), n, x, yv), false, Scene.Style.stroke(FORECAST, 1.1),
                Scene.Meta.of("forecast")));
        value.add(new Scene.Path(line(s.values(), n, x, yv), false, Scene.Style.stroke(VALUE, 1), Scene.Meta.of("value")));
        scene.shapes.add(new Scene.Group(LEFT, VALUE_TOP, PLOT_W, VALUE_H, value));
        for (KeySeries.VersionChange v : s.versions()) {
            if (v.row() > 0) {
                double vx = x.start(v.row());
                scene.shapes.add(new Scene.Path(List.of(new double[] {vx, VALUE_TOP, vx, VALUE_TOP + 7}), false,
                        Scene.Style.stroke("#555555", 1.2), new Scene.Meta("version",
                        "model version " + v.version() + " from " + s.timestamp(v.row()), Map.of())));
            }
        }

        // the score panel: threshold, score
        double thrY = SCORE_TOP + SCORE_H - Math.min(thrT, topT) / topT * SCORE_H;
        List<Scene.Shape> score = new ArrayList<>();
        score.add(new Scene.Path(line(s.scores(), n, x, ys), false, Scene.Style.stroke(SCORE, 1), Scene.Meta.of("score")));
        scene.shapes.add(new Scene.Group(LEFT, SCORE_TOP, PLOT_W, SCORE_H, score));
        scene.shapes.add(Scene.line(LEFT, thrY, LEFT + PLOT_W, thrY, Scene.Style.stroke(FLAG, 1).dashed("5,4")));
        scene.shapes.add(new Scene.Text(LEFT + PLOT_W - 4, thrY - 4, "threshold " + Report.score(threshold), 10, "end", FLAG,
                false));

        scene.shapes.add(new Scene.Rect(LEFT, VALUE_TOP, PLOT_W, VALUE_H, Scene.Style.stroke(AXIS, 1), Scene.Meta.NONE));
        scene.shapes.add(new Scene.Rect(LEFT, SCORE_TOP, PLOT_W, SCORE_H, Scene.Style.stroke(AXIS, 1), Scene.Meta.NONE));

        // flags last, on top of everything
        for (int i = 0; i < n; i++) {
            if (!s.anomaly(i)) {
                continue;
            }
            double v = Double.isFinite(s.value(i)) ? s.value(i) : s.forecast(i);
            double fy = Double.isFinite(v) ? yv.applyAsDouble(v) : VALUE_TOP;
            double fx = x.center(i);
            String verdict = !labelled ? "" : s.label(i) ? " \u2014 true positive (labelled)" : " \u2014 false positive (not labelled)";
            String title = "flagged " + s.timestamp(i) + ": value " + Report.num(s.value(i)) + ", forecast "
                    + Report.num(s.forecast(i)) + " [" + Report.num(s.lower(i)) + ", " + Report.num(s.upper(i))
                    + "], score " + Report.score(s.score(i)) + verdict;
            Map<String, String> data = new LinkedHashMap<>();
            data.put("row", Integer.toString(i + 1));
            data.put("ts", s.timestamp(i));
            if (labelled) {
                data.put("tp", Boolean.toString(s.label(i)));
            }
            Scene.Style style = labelled && !s.label(i)
                    ? new Scene.Style("#ffffff", 1, FLAG, 2, null)
                    : new Scene.Style(FLAG, 1, "#ffffff", 1, null);
            scene.shapes.add(new Scene.Circle(fx, fy, 4.5, style, new Scene.Meta("flag", title, data)));
            scene.shapes.add(new Scene.Circle(fx, ys.applyAsDouble(s.score(i)), 3, style, Scene.Meta.NONE));
        }
        return scene;
    }

    /** About {@code count} evenly spaced rows to label, first and last included. */
    static int[] xTicks(int n, int count) {
        if (n <= 0) {
            return new int[0];
        }
        int k = Math.min(count, n - 1);
        if (k <= 0) {
            return new int[] {0};
        }
        int[] t = new int[k + 1];
        for (int j = 0; j <= k; j++) {
            t[j] = (int) Math.round((double) j * (n - 1) / k);
        }
        return t;
    }
}
