package io.carousel.scoring;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Offline NAB-like evaluation of the scorer on the sample in {@code nab-sample/}, with the
 * simplest baseline forecaster (persistence: the forecast of a row is the previous row's value),
 * run strictly online: each row's score uses only the rows before it.
 *
 * <p>Counting, per file: after the probation (the first 15 % of rows, at most 750), an alert is
 * the first row of a run of rows whose score reaches the threshold (the scorer's
 * {@link Scorer#startsAlert}). An alert inside a labelled window is a true positive, each window
 * counted once; an alert outside every window is a false positive; a window without an alert is
 * missed. The score is NAB's standard profile without the position weighting (simplified):
 * +1 per detected window, -0.11 per false positive, -1 per missed window; "normalised" maps the
 * null detector (everything missed) to 0 and the perfect one to 100. Rows above the threshold
 * outside windows are also reported, because NAB itself counts every such row.
 *
 * <p>Run: {@code mvn -q -o test-compile && java -cp target/classes:target/test-classes
 * io.carousel.scoring.NabEvaluation [dataDir]}.
 */
public final class NabEvaluation {

    /** The sample's location; override with -Dcarousel.nab.dir=... */
    static final Path DEFAULT_DIR = Path.of(System.getProperty("carousel.nab.dir",
            "../shared/data/nab-sample"));

    static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss[.SSSSSS]");

    record Window(LocalDateTime start, LocalDateTime end) {
        boolean contains(LocalDateTime t) {
            return !t.isBefore(start) && !t.isAfter(end);
        }
    }

    /** Per file; scores and inWindow are per row (row 0 has no forecast, so no score). */
    record FileResult(String file, int rows, int probation, int windows, int truePositives,
                      int falsePositives, int missed, int falsePositiveRows, double[] scores,
                      boolean[] inWindow) {
        double precision() {
            int alerts = truePositives + falsePositives;
            return alerts == 0 ? Double.NaN : (double) truePositives / alerts;
        }

        double recall() {
            return windows == 0 ? Double.NaN : (double) truePositives / windows;
        }

        double nabScore() {
            return truePositives - 0.11 * falsePositives - missed;
        }
    }

    private NabEvaluation() {
    }

    /** windows.json: file name -> windows, in file-name order. */
    static Map<String, List<Window>> readWindows(Path dir) throws IOException {
        String json = Files.readString(dir.resolve("windows.json"), StandardCharsets.UTF_8);
        Map<String, List<Window>> result = new TreeMap<>();
        // The file is {"name": [["start", "end"], ...], ...}: only strings and nesting matter.
        int depth = 0;
        String key = null;
        List<String> bounds = new ArrayList<>();
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
            } else if (c == '"') {
                int end = json.indexOf('"', i + 1);
                String s = json.substring(i + 1, end);
                i = end;
                if (depth == 1) {
                    key = s;
                    result.put(key, new ArrayList<>());
                } else if (depth == 3) {
                    bounds.add(s);
                    if (bounds.size() == 2) {
                        result.get(key).add(new Window(LocalDateTime.parse(bounds.get(0), TIME),
                                LocalDateTime.parse(bounds.get(1), TIME)));
                        bounds.clear();
                    }
                }
            }
        }
        return result;
    }

    static FileResult evaluate(Path dir, String file, List<Window> windows, ScoringConfig config)
            throws IOException {
        List<String> lines = Files.readAllLines(dir.resolve(file), StandardCharsets.UTF_8);
        int rows = lines.size() - 1;
        LocalDateTime[] times = new LocalDateTime[rows];
        double[] values = new double[rows];
        for (int i = 0; i < rows; i++) {
            String[] parts = lines.get(i + 1).split(",");
            times[i] = LocalDateTime.parse(parts[0].trim(), TIME);
            values[i] = Double.parseDouble(parts[1].trim());
        }
        Scorer scorer = new Scorer(config);
        ScoreState st = ScoreState.initial(1);
        double[] scores = new double[rows];
        boolean[] above = new boolean[rows];
        boolean[] alert = new boolean[rows];
        for (int i = 1; i < rows; i++) {
            scores[i] = scorer.update(st, values[i] - values[i - 1]); // persistence forecast
            above[i] = scorer.isAnomaly(st);
            alert[i] = scorer.startsAlert(st);
        }
        return count(file, times, scores, above, alert, windows);
    }

    /**
     * NAB-like counting of one file's detections: per row its score, whether the score is at or
     * above the threshold, and whether the row starts an alert.
     */
    static FileResult count(String file, LocalDateTime[] times, double[] scores, boolean[] above, boolean[] alert,
                            List<Window> windows) {
        int rows = times.length;
        int probation = (int) Math.min(750, Math.floor(0.15 * rows));
        boolean[] inWindow = new boolean[rows];
        boolean[] detected = new boolean[windows.size()];
        int falsePositives = 0;
        int falsePositiveRows = 0;
        for (int i = probation; i < rows; i++) {
            int w = windowOf(windows, times[i]);
            inWindow[i] = w >= 0;
            if (above[i] && w < 0) {
                falsePositiveRows++;
            }
            if (alert[i]) {
                if (w >= 0) {
                    detected[w] = true;
                } else {
                    falsePositives++;
                }
            }
        }
        int truePositives = 0;
        for (boolean d : detected) {
            truePositives += d ? 1 : 0;
        }
        return new FileResult(file, rows, probation, windows.size(), truePositives,
                falsePositives, windows.size() - truePositives, falsePositiveRows, scores,
                inWindow);
    }

    private static int windowOf(List<Window> windows, LocalDateTime t) {
        for (int w = 0; w < windows.size(); w++) {
            if (windows.get(w).contains(t)) {
                return w;
            }
        }
        return -1;
    }

    static List<FileResult> evaluateAll(Path dir, ScoringConfig config) throws IOException {
        List<FileResult> results = new ArrayList<>();
        for (Map.Entry<String, List<Window>> e : readWindows(dir).entrySet()) {
            results.add(evaluate(dir, e.getKey(), e.getValue(), config));
        }
        return results;
    }

    static String report(List<FileResult> results, ScoringConfig config) {
        StringBuilder out = new StringBuilder();
        out.append(config).append('\n');
        out.append(String.format(Locale.ROOT, "%-55s %4s %4s %4s %4s %6s %9s %6s %7s%n", "file",
                "win", "TP", "FP", "miss", "FProw", "precision", "recall", "NAB"));
        int w = 0;
        int tp = 0;
        int fp = 0;
        int missed = 0;
        int fpRows = 0;
        for (FileResult r : results) {
            out.append(line(r.file(), r.windows(), r.truePositives(), r.falsePositives(),
                    r.missed(), r.falsePositiveRows(), r.precision(), r.recall(), r.nabScore()));
            w += r.windows();
            tp += r.truePositives();
            fp += r.falsePositives();
            missed += r.missed();
            fpRows += r.falsePositiveRows();
        }
        double total = tp - 0.11 * fp - missed;
        out.append(line("TOTAL", w, tp, fp, missed, fpRows,
                tp + fp == 0 ? Double.NaN : (double) tp / (tp + fp),
                w == 0 ? Double.NaN : (double) tp / w, total));
        out.append(String.format(Locale.ROOT,
                "normalised NAB-style score (null detector 0, perfect 100): %.1f%n",
                w == 0 ? Double.NaN : 100 * (total + w) / (2.0 * w)));
        return out.toString();
    }

    private static String line(String name, int w, int tp, int fp, int missed, int fpRows,
                               double precision, double recall, double nab) {
        return String.format(Locale.ROOT, "%-55s %4d %4d %4d %4d %6d %9s %6s %7.2f%n", name, w,
                tp, fp, missed, fpRows, fmt(precision), fmt(recall), nab);
    }

    private static String fmt(double x) {
        return Double.isNaN(x) ? "-" : String.format(Locale.ROOT, "%.2f", x);
    }

    public static void main(String[] args) throws IOException {
        Path dir = args.length > 0 ? Path.of(args[0]) : DEFAULT_DIR;
        ScoringConfig config = ScoringConfig.defaults();
        System.out.print(report(evaluateAll(dir, config), config));
    }
}
