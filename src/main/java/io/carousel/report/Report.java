package io.carousel.report;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A backtest's rows, kept per key as they come, for a report page ({@link #writeHtml}) or image
 * ({@link #writePng}) at the end.
 */
public final class Report {

    /** One key's series with what the page shows about it. */
    record Key(KeySeries series, List<Evaluation.Run> runs, Evaluation.Counts counts, Quality quality) {}

    /**
     * Forecast quality: mean absolute error of the forecasts, of persistence (the previous value)
     * over the same rows, and the share of values within their interval.
     */
    record Quality(double mae, double persistenceMae, long scored, double coverage, long covered) {}

    private final String title;
    private final double threshold;
    private final boolean labelled;
    private final Map<String, KeySeries> keys = new LinkedHashMap<>();

    /**
     * @param title what the report is of (the input file)
     * @param threshold anomaly.threshold, drawn on the score
     * @param labelled whether the input has a label column
     */
    public Report(String title, double threshold, boolean labelled) {
        this.title = title;
        this.threshold = threshold;
        this.labelled = labelled;
    }

    /** A row of {@code key}; see {@link KeySeries#add}. The label is the cell as written ({@link Evaluation#isAnomalyLabel}). */
    public void add(String key, String ts, double value, double forecast, double lower, double upper, double score,
                    boolean anomaly, String label, boolean warm, long modelVersion) {
        keys.computeIfAbsent(key, KeySeries::new).add(ts, value, forecast, lower, upper, score, anomaly,
                labelled && Evaluation.isAnomalyLabel(label), warm, modelVersion);
    }

    String title() {
        return title;
    }

    double threshold() {
        return threshold;
    }

    boolean labelled() {
        return labelled;
    }

    List<Key> keys() {
        List<Key> out = new ArrayList<>(keys.size());
        for (KeySeries s : keys.values()) {
            List<Evaluation.Run> runs = Evaluation.runs(s);
            out.add(new Key(s, runs, Evaluation.counts(s, runs), quality(s)));
        }
        return out;
    }

    private static Quality quality(KeySeries s) {
        double err = 0;
        double pers = 0;
        long scored = 0;
        long inside = 0;
        long intervals = 0;
        for (int i = 1; i < s.size(); i++) {
            double v = s.value(i);
            if (Double.isFinite(v) && Double.isFinite(s.forecast(i)) && Double.isFinite(s.value(i - 1))) {
                err += Math.abs(v - s.forecast(i));
                pers += Math.abs(v - s.value(i - 1));
                scored++;
            }
            if (Double.isFinite(v) && Double.isFinite(s.lower(i)) && Double.isFinite(s.upper(i))) {
                intervals++;
                inside += s.lower(i) <= v && v <= s.upper(i) ? 1 : 0;
            }
        }
        return new Quality(scored == 0 ? Double.NaN : err / scored, scored == 0 ? Double.NaN : pers / scored, scored,
                intervals == 0 ? Double.NaN : (double) inside / intervals, intervals);
    }

    public void writeHtml(Path file) throws IOException {
        Html.write(this, file);
    }

    public void writePng(Path file) throws IOException {
        Png.write(this, file);
    }

    /** A number for people: 6 significant digits, no exponent below a billion; "–" for none. */
    static String num(double v) {
        if (Double.isNaN(v)) {
            return "\u2013";
        }
        if (Double.isInfinite(v) || Math.abs(v) >= 1e9 || (v != 0 && Math.abs(v) < 1e-4)) {
            return String.format(Locale.ROOT, "%.5g", v);
        }
        String s = new BigDecimal(v).round(new MathContext(6)).stripTrailingZeros().toPlainString();
        return s.equals("-0") ? "0" : s;
    }

    /** A score, with as many nines as it has: 0.5, 0.99994, 0.9999999983. */
    static String score(double s) {
        if (Double.isNaN(s)) {
            return "\u2013";
        }
        if (s < 0.99) {
            return num(Math.round(s * 1000) / 1000.0);
        }
        if (1 - s < 1e-12) {
            return "> 0.999999999999";
        }
        int digits = (int) Math.ceil(-Math.log10(1 - s)) + 1;
        String t = String.format(Locale.ROOT, "%." + digits + "f", s);
        return t.contains(".") ? t.replaceAll("0+$", "") : t;
    }

    /** A share as a percentage with its fraction: "75.0% (3/4)"; "–" when there is nothing to divide by. */
    static String share(long num, long den) {
        if (den == 0) {
            return "\u2013";
        }
        return String.format(Locale.ROOT, "%.1f%% (%,d/%,d)", 100.0 * num / den, num, den);
    }
}
