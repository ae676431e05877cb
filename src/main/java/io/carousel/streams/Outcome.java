package io.carousel.streams;

import java.util.Arrays;

/**
 * What one event produced (reused across events: the processor formats it into the output topics
 * right away). Arrays are per forecast target; horizon arrays are [step][target].
 */
public final class Outcome {
    long timestamp;
    double[] value = new double[0];
    double[] forecast = new double[0];
    double[] error = new double[0];
    double[] deviation = new double[0];
    double[] nextForecast = new double[0];
    double[] lower = new double[0];
    double[] upper = new double[0];
    double[] horizon = new double[0];
    long[] horizonTime = new long[0];
    /** Half-width of the interval of the forecast made for this event (first target); NaN if none. */
    double expectedHalfWidth;
    double score;
    boolean anomaly;
    boolean warm;
    /** What made {@code nextForecast}: one of KeyState's source codes ({@link KeyState#sourceName}). */
    byte source;
    boolean drift;
    long modelVersion;
    long count;

    void clear(int outputs, int steps) {
        if (value.length != outputs) {
            value = new double[outputs];
            forecast = new double[outputs];
            error = new double[outputs];
            deviation = new double[outputs];
            nextForecast = new double[outputs];
            lower = new double[outputs];
            upper = new double[outputs];
        }
        if (horizonTime.length != steps) {
            horizon = new double[steps * outputs];
            horizonTime = new long[steps];
        }
        Arrays.fill(deviation, 0.0);
        score = 0;
        anomaly = false;
        expectedHalfWidth = Double.NaN;
    }

    public double score() {
        return score;
    }

    public boolean anomaly() {
        return anomaly;
    }

    public boolean warm() {
        return warm;
    }

    public double forecast(int j) {
        return forecast[j];
    }

    public double nextForecast(int j) {
        return nextForecast[j];
    }

    public double lower(int j) {
        return lower[j];
    }

    public double upper(int j) {
        return upper[j];
    }

    public long modelVersion() {
        return modelVersion;
    }
}
