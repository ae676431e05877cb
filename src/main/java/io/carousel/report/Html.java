package io.carousel.report;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched. It is
 * also well-formed XML (XHTML syntax), so tools and tests can parse it.
 */
final class Html {

    private Html() {}

    private static final String CSS = """
            body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0;
                   background: #f6f7f9; }
            main { max-width: 1240px; margin: 0 auto; padding: 16px 20px 40px; }
            h1 { font-size: 22px; margin: 8px 0 4px; }
            h2 { font-size: 17px; margin: 0 0 4px; word-break: break-all; }
            section, .intro { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 14px 16px;
                              margin: 14px 0; }
            .meta { color: #555; margin: 2px 0 8px; }
            table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
            th, td { padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
            th { font-weight: 600; color: #444; border-bottom: 1px solid #ccd; }
            td.n, th.n { text-align: right; }
            tr.total td { border-top: 1px solid #ccd; font-weight: 600; }
            .stats td { padding-right: 22px; }
            .stats .big { font-size: 18px; font-weight: 600; }
            .stats .lab { color: #666; font-size: 12px; }
            svg.chart { width: 100%; height: auto; display: block; margin: 6px 0; }
            details { margin: 6px 0; }
            summary { cursor: pointer; color: #1f5f99; }
            details table { margin: 6px 0 4px; font-size: 13px; }
            tr.fp td.verdict { color: #d62728; }
            tr.tp td.verdict { color: #2a7d2a; }
            tr.missed td.verdict { color: #d62728; }
            .legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 8px 0 2px; color: #333; }
            .legend svg { vertical-align: -3px; margin-right: 5px; }
            .rule { color: #333; max-width: 980px; }
            code { background: #eef0f3; padding: 0 3px; border-radius: 3px; }
            """;

    static void write(Report report, Path file) throws IOException {
        List<Report.Key> keys = report.keys();
        StringBuilder b = new StringBuilder(1 << 16);
        b.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n")
                .append("<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
                .append("<title>Backtest report: ").append(escape(report.title())).append("</title>\n<style>\n").append(CSS)
                .append("</style>\n</head>\n<body>\n<main>\n");
        intro(report, keys, b);
        for (int k = 0; k < keys.size(); k++) {
            key(report, keys.get(k), k, b);
        }
        b.append("</main>\n</body>\n</html>\n");
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write(b.toString());
        }
    }

    private static void intro(Report report, List<Report.Key> keys, StringBuilder b) {
        Evaluation.Counts all = Evaluation.Counts.ZERO;
        for (Report.Key k : keys) {
            all = all.plus(k.counts());
        }
        b.append("<div class=\"intro\">\n<h1>Backtest report: ").append(escape(report.title())).append("</h1>\n")
                .append("<p class=\"meta\">").append(String.format(java.util.Locale.ROOT, "%,d", all.rows()))
                .append(" rows of ").append(keys.size()).append(keys.size() == 1 ? " key" : " keys").append(", ")
                .append(String.format(java.util.Locale.ROOT, "%,d", all.flagged()))
                .append(" flagged as anomalies (anomaly.threshold ").append(escape(Report.score(report.threshold())))
                .append(")").append(report.labelled() ? ", checked against the label column" : ", no label column")
                .append(".</p>\n");
        b.append("<table class=\"summary\" data-keys=\"").append(keys.size()).append("\"");
        if (report.labelled()) {
            countAttributes(all, b);
        }
        b.append(">\n<tr><th>key</th><th class=\"n\">rows</th><th class=\"n\">flagged</th>");
        if (report.labelled()) {
            b.append("<th class=\"n\">true positives</th><th class=\"n\">labelled runs</th><th class=\"n\">found</th>")
                    .append("<th class=\"n\">precision</th><th class=\"n\">recall</th>");
        }
        b.append("</tr>\n");
        for (int k = 0; k < keys.size(); k++) {
            summaryRow("<a href=\"#key-" + k + "\">" + escape(keys.get(k).series().key()) + "</a>", keys.get(k).counts(),
                    report.labelled(), "", b);
        }
        if (keys.size() > 1) {
            summaryRow("all keys", all, report.labelled(), " class=\"total\"", b);
        }
        b.append("</table>\n");
        legend(report.labelled(), b);
        b.append("<p class=\"rule\">Each key's rows are drawn in order, left to right, labelled with their timestamps"
                + " as written. Where a key has more rows than the chart has pixel columns, each column draws the"
                + " lowest and the highest value of its rows, so no spike is lost; flagged rows, labelled runs and"
                + " model changes are always drawn one by one. The value axis spans the values: forecasts and"
                + " intervals beyond it are cut at the edge. The score axis is spaced by 1 \u2212 score, so"
                + " 0.9, 0.99, 0.999 and so on are equally far apart; ordinary rows sit near 0.5.</p>\n");
        if (report.labelled()) {
            b.append("<p class=\"rule\" id=\"rule\"><b>How precision and recall are counted.</b> A row is a true"
                    + " anomaly when its <code>label</code> is 1. A <i>labelled run</i> is a maximal run of a key's"
                    + " consecutive rows labelled 1: a single labelled point is a run of one row, an anomaly window"
                    + " is one run. A flagged row is a <b>true positive</b> when it is labelled 1, that is when it"
                    + " falls within a labelled run; any other flagged row is a false positive (a flag one row after"
                    + " a labelled point is one too). <b>Precision</b> = true positives / flagged rows."
                    + " <b>Recall</b> = labelled runs with at least one flagged row / labelled runs: Carousel flags"
                    + " the first row of a run of high scores, not every row of a window, so one flag finds a run."
                    + " Nothing is flagged during a key's warm-up, so a run there cannot be found. The totals add up"
                    + " the counts of all keys.</p>\n");
        } else {
            b.append("<p class=\"rule\">Precision and recall need a <code>label</code> column in the input"
                    + " (1 = anomaly).</p>\n");
        }
        b.append("</div>\n");
    }

    private static void summaryRow(String name, Evaluation.Counts c, boolean labelled, String cls, StringBuilder b) {
        b.append("<tr").append(cls).append("><td>").append(name).append("</td><td class=\"n\">").append(c.rows())
                .append("</td><td class=\"n\">").append(c.flagged()).append("</td>");
        if (labelled) {
            b.append("<td class=\"n\">").append(c.truePositives()).append("</td><td class=\"n\">").append(c.runs())
                    .append("</td><td class=\"n\">").append(c.detectedRuns()).append("</td><td class=\"n\">")
                    .append(escape(Report.share(c.truePositives(), c.flagged()))).append("</td><td class=\"n\">")
                    .append(escape(Report.share(c.detectedRuns(), c.runs()))).append("</td>");
        }
        b.append("</tr>\n");
    }

    private static void countAttributes(Evaluation.Counts c, StringBuilder b) {
        b.append(" data-rows=\"").append(c.rows()).append("\" data-flagged=\"").append(c.flagged())
                .append("\" data-true-positives=\"").append(c.truePositives()).append("\" data-false-positives=\"")
                .append(c.falsePositives()).append("\" data-labelled-rows=\"").append(c.labelledRows())
                .append("\" data-runs=\"").append(c.runs()).append("\" data-detected-runs=\"").append(c.detectedRuns())
                .append("\" data-precision=\"").append(Double.isNaN(c.precision()) ? "" : Double.toString(c.precision()))
                .append("\" data-recall=\"").append(Double.isNaN(c.recall()) ? "" : Double.toString(c.recall())).append('"');
    }

    private static void legend(boolean labelled, StringBuilder b) {
        b.append("<div class=\"legend\">\n");
        item("<path d=\"M1,9 L6,4 L11,8 L17,2\" fill=\"none\" stroke=\"" + Charts.VALUE + "\" stroke-width=\"1.6\"/>",
                "value", b);
        item("<path d=\"M1,8 L6,5 L11,7 L17,3\" fill=\"none\" stroke=\"" + Charts.FORECAST + "\" stroke-width=\"1.4\"/>",
                "forecast (made before the row)", b);
        item("<rect x=\"1\" y=\"2\" width=\"16\" height=\"8\" fill=\"" + Charts.BAND + "\" fill-opacity=\"0.3\"/>",
                "forecast interval", b);
        item("<path d=\"M1,9 L6,7 L11,8 L17,3\" fill=\"none\" stroke=\"" + Charts.SCORE + "\" stroke-width=\"1.4\"/>",
                "anomaly score", b);
        item("<circle cx=\"9\" cy=\"6\" r=\"4.5\" fill=\"" + Charts.FLAG + "\" stroke=\"#fff\"/>",
                labelled ? "flagged, labelled (true positive)" : "flagged", b);
        if (labelled) {
            item("<circle cx=\"9\" cy=\"6\" r=\"4\" fill=\"#fff\" stroke=\"" + Charts.FLAG + "\" stroke-width=\"2\"/>",
                    "flagged, not labelled (false positive)", b);
            item("<rect x=\"1\" y=\"0\" width=\"16\" height=\"12\" fill=\"" + Charts.LABEL + "\" fill-opacity=\"0.45\"/>",
                    "labelled anomaly (label = 1)", b);
        }
        item("<path d=\"M9,0 L9,7\" stroke=\"#555\" stroke-width=\"1.4\"/>", "new model version", b);
        item("<rect x=\"1\" y=\"0\" width=\"16\" height=\"12\" fill=\"#000\" fill-opacity=\"0.08\"/>", "warm-up", b);
        b.append("</div>\n");
    }

    private static void item(String svg, String text, StringBuilder b) {
        b.append("<span><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"18\" height=\"12\" viewBox=\"0 0 18 12\">")
                .append(svg).append("</svg>").append(escape(text)).append("</span>\n");
    }

    private static void key(Report report, Report.Key key, int index, StringBuilder b) {
        KeySeries s = key.series();
        Evaluation.Counts c = key.counts();
        int n = s.size();
        b.append("<section class=\"key\" id=\"key-").append(index).append("\" data-key=\"").append(escape(s.key())).append('"');
        if (report.labelled()) {
            countAttributes(c, b);
        } else {
            b.append(" data-rows=\"").append(c.rows()).append("\" data-flagged=\"").append(c.flagged()).append('"');
        }
        b.append(">\n<h2>").append(escape(s.key())).append("</h2>\n<p class=\"meta\">")
                .append(String.format(java.util.Locale.ROOT, "%,d", n)).append(n == 1 ? " row, " : " rows, ")
                .append(escape(s.timestamp(0))).append(n > 1 ? " to " + escape(s.timestamp(n - 1)) : "");
        List<KeySeries.VersionChange> versions = s.versions();
        long lastVersion = versions.get(versions.size() - 1).version();
        b.append("; model version ").append(lastVersion == versions.get(0).version() ? Long.toString(lastVersion)
                : versions.get(0).version() + " to " + lastVersion + " (" + (versions.size() - 1) + " changes)");
        Report.Quality q = key.quality();
        if (q.scored() > 0) {
            b.append("; forecast mean absolute error ").append(escape(Report.num(q.mae()))).append(" (persistence ")
                    .append(escape(Report.num(q.persistenceMae()))).append(")");
        }
        if (q.covered() > 0) {
            b.append("; ").append(String.format(java.util.Locale.ROOT, "%.1f%%", 100 * q.coverage()))
                    .append(" of values within their interval");
        }
        b.append(".</p>\n<table class=\"stats\"><tr>");
        stat(String.format(java.util.Locale.ROOT, "%,d", c.flagged()), "flagged rows", b);
        if (report.labelled()) {
            stat(Long.toString(c.truePositives()), "true positives", b);
            stat(Long.toString(c.falsePositives()), "false positives", b);
            stat(c.runs() + " <span class=\"lab\">(" + String.format(java.util.Locale.ROOT, "%,d", c.labelledRows())
                    + " rows)</span>", "labelled runs", b);
            stat(Long.toString(c.detectedRuns()), "runs found", b);
            stat("<span class=\"precision\">" + escape(Report.share(c.truePositives(), c.flagged())) + "</span>",
                    "precision", b);
            stat("<span class=\"recall\">" + escape(Report.share(c.detectedRuns(), c.runs())) + "</span>", "recall", b);
        }
        b.append("</tr></table>\n");
        Svg.write(Charts.key(s, key.runs(), report.threshold(), report.labelled()), "chart-" + index, b);
        flags(report, s, c, b);
        if (report.labelled()) {
            runs(s, key.runs(), b);
        }
        b.append("</section>\n");
    }

    private static void stat(String valueHtml, String label, StringBuilder b) {
        b.append("<td><div class=\"big\">").append(valueHtml).append("</div><div class=\"lab\">").append(escape(label))
                .append("</div></td>");
    }

    private static void flags(Report report, KeySeries s, Evaluation.Counts c, StringBuilder b) {
        if (c.flagged() == 0) {
            b.append("<p class=\"meta\">No row flagged.</p>\n");
            return;
        }
        b.append("<details><summary>Flagged rows (").append(c.flagged()).append(")</summary>\n<table class=\"flags\">\n")
                .append("<tr><th class=\"n\">row</th><th>timestamp</th><th class=\"n\">value</th><th class=\"n\">forecast</th>")
                .append("<th class=\"n\">lower</th><th class=\"n\">upper</th><th class=\"n\">score</th>")
                .append(report.labelled() ? "<th>label</th>" : "").append("</tr>\n");
        for (int i = 0; i < s.size(); i++) {
            if (!s.anomaly(i)) {
                continue;
            }
            b.append("<tr class=\"flag").append(report.labelled() ? s.label(i) ? " tp" : " fp" : "").append("\"><td class=\"n\">")
                    .append(i + 1).append("</td><td>").append(escape(s.timestamp(i))).append("</td><td class=\"n\">")
                    .append(escape(Report.num(s.value(i)))).append("</td><td class=\"n\">").append(escape(Report.num(s.forecast(i))))
                    .append("</td><td class=\"n\">").append(escape(Report.num(s.lower(i)))).append("</td><td class=\"n\">")
                    .append(escape(Report.num(s.upper(i)))).append("</td><td class=\"n\">").append(escape(Report.score(s.score(i))))
                    .append("</td>");
            if (report.labelled()) {
                b.append("<td class=\"verdict\">").append(s.label(i) ? "1: true positive" : "0: false positive").append("</td>");
            }
            b.append("</tr>\n");
        }
        b.append("</table>\n</details>\n");
    }

    private static void runs(KeySeries s, List<Evaluation.Run> runs, StringBuilder b) {
        if (runs.isEmpty()) {
            b.append("<p class=\"meta\">No row labelled 1.</p>\n");
            return;
        }
        b.append("<details><summary>Labelled runs (").append(runs.size()).append(")</summary>\n<table class=\"runs\">\n")
                .append("<tr><th>first row</th><th>last row</th><th class=\"n\">rows</th><th>found</th></tr>\n");
        for (Evaluation.Run r : runs) {
            b.append("<tr class=\"run").append(r.detected() ? " found" : " missed").append("\"><td>")
                    .append(escape(s.timestamp(r.first()))).append("</td><td>").append(escape(s.timestamp(r.last())))
                    .append("</td><td class=\"n\">").append(r.rows()).append("</td><td class=\"verdict\">")
                    .append(r.detected() ? "first flagged at " + escape(s.timestamp(r.firstFlag())) : "missed")
                    .append("</td></tr>\n");
        }
        b.append("</table>\n</details>\n");
    }

    /** Text for an element or a double-quoted attribute. */
    static String escape(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            String rep = switch (ch) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '"' -> "&quot;";
                case '\'' -> "&#39;";
                default -> ch < 0x20 && ch != '\t' && ch != '\n' ? "\uFFFD" : null;
            };
            if (rep != null && out == null) {
                out = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (out != null) {
                if (rep != null) {
                    out.append(rep);
                } else {
                    out.append(ch);
                }
            }
        }
        return out == null ? s : out.toString();
    }
}
