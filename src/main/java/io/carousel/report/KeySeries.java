package io.carousel.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One key's rows of a backtest, in order, as the report needs them: about 100 bytes a row (the
 * timestamp as written, five doubles, a byte of flags), so a 22,000-row series takes about 2 MB.
 */
public final class KeySeries {

    private static final byte ANOMALY = 1;
    private static final byte LABEL = 2;
    private static final byte WARM = 4;

    /** A model version's first row: from {@code row} on, the key was served by {@code version}. */
    public record VersionChange(int row, long version) {}

    private final String key;
    private int n;
    private String[] timestamp = new String[256];
    private double[] value = new double[256];
    private double[] forecast = new double[256];
    private double[] lower = new double[256];
    private double[] upper = new double[256];
    private double[] score = new double[256];
    private byte[] flags = new byte[256];
    private final List<VersionChange> versions = new ArrayList<>();

    public KeySeries(String key) {
        this.key = key;
    }

    /**
     * Appends a row: {@code forecast}, {@code lower} and {@code upper} are what had been forecast
     * for it (NaN for none), as in the backtest's CSV.
     */
    public void add(String ts, double v, double f, double lo, double hi, double s, boolean anomaly, boolean label,
                    boolean warm, long modelVersion) {
        if (n == value.length) {
            int cap = n * 2;
            timestamp = Arrays.copyOf(timestamp, cap);
            value = Arrays.copyOf(value, cap);
            forecast = Arrays.copyOf(forecast, cap);
            lower = Arrays.copyOf(lower, cap);
            upper = Arrays.copyOf(upper, cap);
            score = Arrays.copyOf(score, cap);
            flags = Arrays.copyOf(flags, cap);
        }
        if (versions.isEmpty() || versions.get(versions.size() - 1).version() != modelVersion) {
            versions.add(new VersionChange(n, modelVersion));
        }
        timestamp[n] = ts;
        value[n] = v;
        forecast[n] = f;
        lower[n] = lo;
        upper[n] = hi;
        score[n] = s;
        flags[n] = (byte) ((anomaly ? ANOMALY : 0) | (label ? LABEL : 0) | (warm ? WARM : 0));
        n++;
    }

    public String key() {
        return key;
    }

    public int size() {
        return n;
    }

    public String timestamp(int i) {
        return timestamp[i];
    }

    public double value(int i) {
        return value[i];
    }

    public double forecast(int i) {
        return forecast[i];
    }

    public double lower(int i) {
        return lower[i];
    }

    public double upper(int i) {
        return upper[i];
    }

    public double score(int i) {
        return score[i];
    }

    public boolean anomaly(int i) {
        return (flags[i] & ANOMALY) != 0;
    }

    public boolean label(int i) {
        return (flags[i] & LABEL) != 0;
    }

    public boolean warm(int i) {
        return (flags[i] & WARM) != 0;
    }

    /** The model versions that served the key, each with its first row. */
    public List<VersionChange> versions() {
        return versions;
    }

    /** The first {@code size()} values of a column, for drawing. */
    double[] values() {
        return value;
    }

    double[] forecasts() {
        return forecast;
    }

    double[] lowers() {
        return lower;
    }

    double[] uppers() {
        return upper;
    }

    double[] scores() {
        return score;
    }
}
