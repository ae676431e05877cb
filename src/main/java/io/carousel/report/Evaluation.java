package io.carousel.report;

import java.util.ArrayList;
import java.util.List;

/**
 * Flagged rows against the labels. A <em>labelled run</em> is a maximal run of a key's consecutive
 * rows labelled 1 (a single labelled point is a run of one row; an anomaly window is one run).
 * A flagged row is a true positive when it is labelled 1, that is, when it falls within a
 * labelled run, else a false positive. Precision is true positives / flagged rows; recall is
 * labelled runs with at least one flagged row / labelled runs. Recall counts runs rather than
 * rows because Carousel flags the first event of a run of high scores, not every row of an
 * anomaly window: one flag inside a window has found it.
 */
public final class Evaluation {

    private Evaluation() {}

    /** Rows {@code first..last} (inclusive) labelled 1; {@code firstFlag} the first flagged row in it, or -1. */
    public record Run(int first, int last, int firstFlag) {
        public boolean detected() {
            return firstFlag >= 0;
        }

        public int rows() {
            return last - first + 1;
        }
    }

    /** The counts behind precision and recall; they add up across keys. */
    public record Counts(long rows, long flagged, long truePositives, long labelledRows, long runs, long detectedRuns) {
        public static final Counts ZERO = new Counts(0, 0, 0, 0, 0, 0);

        public long falsePositives() {
            return flagged - truePositives;
        }

        /** True positives / flagged rows; NaN when nothing was flagged. */
        public double precision() {
            return flagged == 0 ? Double.NaN : (double) truePositives / flagged;
        }

        /** Detected labelled runs / labelled runs; NaN when nothing is labelled. */
        public double recall() {
            return runs == 0 ? Double.NaN : (double) detectedRuns / runs;
        }

        public Counts plus(Counts o) {
            return new Counts(rows + o.rows, flagged + o.flagged, truePositives + o.truePositives,
                    labelledRows + o.labelledRows, runs + o.runs, detectedRuns + o.detectedRuns);
        }
    }

    /** The key's labelled runs, in order. */
    public static List<Run> runs(KeySeries s) {
        List<Run> runs = new ArrayList<>();
        int n = s.size();
        for (int i = 0; i < n; ) {
            if (!s.label(i)) {
                i++;
                continue;
            }
            int first = i;
            int flag = -1;
            for (; i < n && s.label(i); i++) {
                if (flag < 0 && s.anomaly(i)) {
                    flag = i;
                }
            }
            runs.add(new Run(first, i - 1, flag));
        }
        return runs;
    }

    public static Counts counts(KeySeries s, List<Run> runs) {
        long flagged = 0;
        long tp = 0;
        long labelled = 0;
        for (int i = 0; i < s.size(); i++) {
            flagged += s.anomaly(i) ? 1 : 0;
            tp += s.anomaly(i) && s.label(i) ? 1 : 0;
            labelled += s.label(i) ? 1 : 0;
        }
        return new Counts(s.size(), flagged, tp, labelled, runs.size(), runs.stream().filter(Run::detected).count());
    }

    /** Whether a label cell means "anomaly": 1 (or a number equal to 1, such as 1.0); anything else does not. */
    public static boolean isAnomalyLabel(String cell) {
        String c = cell.strip();
        if (c.equals("1")) {
            return true;
        }
        if (c.isEmpty() || !(Character.isDigit(c.charAt(0)) || c.charAt(0) == '+' || c.charAt(0) == '.')) {
            return false;
        }
        try {
            return Double.parseDouble(c) == 1.0;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
