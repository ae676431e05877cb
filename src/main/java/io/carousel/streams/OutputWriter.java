package io.carousel.streams;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Formats an {@link Outcome} as the three output records. The field names are an interface
 * (documented in the README): change them only with a new format.
 *
 * <p>The enriched record is the original JSON object, byte for byte, with a {@code carousel}
 * object spliced in before its closing brace, so every original field and its formatting survive.
 *
 * <p>Written straight into one reused byte buffer (two records at every event, so this is the
 * hot path): field names (Carousel's, plain ASCII) are copied in, doubles are Schubfach's shortest
 * round-trip digits ({@link ShortestDouble}: as Jackson writes them, those of an event's repeated
 * numbers found once),
 * longs are written digit by digit, strings are escaped by Jackson's JSON encoder, and a missing number
 * (no forecast yet) is null, since JSON has no NaN. Not thread-safe: one per forecast step.
 */
final class OutputWriter {

    private static final byte[] SPLICE_FIRST = encoded("\"carousel\":");
    private static final byte[] SPLICE_NEXT = encoded(",\"carousel\":");
    private static final byte[] TRUE = encoded("true");
    private static final byte[] FALSE = encoded("false");
    private static final byte[] NULL = encoded("null");
    private static final byte[] LONG_MIN = encoded(Long.toString(Long.MIN_VALUE));
    // the field names, each as written: its JSON string and the colon
    private static final byte[] ANOMALY = name("anomaly");
    private static final byte[] ANOMALY_SCORE = name("anomalyScore");
    private static final byte[] COUNT = name("count");
    private static final byte[] DEVIATION = name("deviation");
    private static final byte[] DEVIATIONS = name("deviations");
    private static final byte[] ERROR = name("error");
    private static final byte[] EXPECTED = name("expected");
    private static final byte[] FEATURE = name("feature");
    private static final byte[] FORECAST = name("forecast");
    private static final byte[] HORIZON = name("horizon");
    private static final byte[] KEY = name("key");
    private static final byte[] LOWER = name("lower");
    private static final byte[] MODEL_VERSION = name("modelVersion");
    private static final byte[] NEXT_FORECAST = name("nextForecast");
    private static final byte[] SOURCE = name("source");
    private static final byte[] STEP = name("step");
    private static final byte[] TARGETS = name("targets");
    private static final byte[] THRESHOLD = name("threshold");
    private static final byte[] TIMESTAMP = name("timestamp");
    private static final byte[] UPPER = name("upper");
    private static final byte[] VALUE = name("value");
    private static final byte[] VALUES = name("values");
    private static final byte[] WARM = name("warm");
    /** Each forecast source's name as a JSON string, by its code ({@link KeyState#sourceName}). */
    private static final byte[][] SOURCES = new byte[KeyState.SMOOTHED + 1][];

    static {
        for (byte code = 0; code < SOURCES.length; code++) {
            SOURCES[code] = encoded("\"" + KeyState.sourceName(code) + "\"");
        }
    }

    private final StreamSettings s;
    /** Each feature's name as a JSON string, encoded once. */
    private final byte[][] featureNames;
    private byte[] buf = new byte[512];
    private int len;
    /** The current object has a field already (the next one needs a comma). */
    private boolean comma;
    private final ShortestDouble shortest = new ShortestDouble();
    /** A long's digits, right-aligned, before they are copied in. */
    private final byte[] longDigits = new byte[20];

    /** The last few doubles written, as raw bits, and their digits (see {@link #number(double)}). */
    private static final int RECENT = 4;
    private final long[] recentBits = new long[RECENT];
    private final byte[][] recentDigits = new byte[RECENT][ShortestDouble.MAX_CHARS];
    /** How many bytes of recentDigits[i] are its digits; 0: empty. */
    private final int[] recentLength = new int[RECENT];
    private int nextRecent;

    OutputWriter(StreamSettings settings) {
        this.s = settings;
        List<String> f = settings.features();
        this.featureNames = new byte[f.size()][];
        for (int i = 0; i < featureNames.length; i++) {
            featureNames[i] = quoted(f.get(i));
        }
    }

    byte[] enriched(ParsedEvent e, Outcome r) {
        byte[] original = e.original();
        int end = original.length - 1;
        while (end > 0 && original[end] != '}') {
            end--;
        }
        int before = end - 1;
        while (before > 0 && Character.isWhitespace(original[before])) {
            before--;
        }
        len = 0;
        bytes(original, 0, end);
        bytes(original[before] == '{' ? SPLICE_FIRST : SPLICE_NEXT);
        start();
        number(FORECAST, r.forecast[0]);
        number(ERROR, r.error[0]);
        number(ANOMALY_SCORE, r.score);
        bool(ANOMALY, r.anomaly);
        number(NEXT_FORECAST, r.nextForecast[0]);
        number(LOWER, r.lower[0]);
        number(UPPER, r.upper[0]);
        number(MODEL_VERSION, r.modelVersion);
        source(r);
        bool(WARM, r.warm);
        number(COUNT, r.count);
        if (s.outputs() > 1) {
            field(TARGETS);
            array();
            for (int j = 0; j < s.outputs(); j++) {
                targetStart(j);
                number(FORECAST, r.forecast[j]);
                number(ERROR, r.error[j]);
                number(DEVIATION, r.deviation[j]);
                number(NEXT_FORECAST, r.nextForecast[j]);
                number(LOWER, r.lower[j]);
                number(UPPER, r.upper[j]);
                end();
            }
            arrayEnd();
        }
        end();
        bytes(original, end, original.length - end);
        return Arrays.copyOf(buf, len);
    }

    byte[] forecast(String key, Outcome r) {
        len = 0;
        start();
        string(KEY, key);
        number(TIMESTAMP, r.timestamp);
        number(MODEL_VERSION, r.modelVersion);
        source(r);
        field(HORIZON);
        array();
        int o = s.outputs();
        int steps = r.horizonTime.length;
        for (int h = 0; h < steps; h++) {
            double value = steps == 1 ? r.nextForecast[0] : r.horizon[h * o];
            // the interval widens with the horizon as a random walk's would: sqrt(h); step 1, the
            // next forecast, has exactly its own interval, [lower, upper]
            double w = (r.upper[0] - r.lower[0]) / 2 * Math.sqrt(h + 1);
            boolean next = h == 0 && value == r.nextForecast[0];
            double lower = next ? r.lower[0] : value - w;
            double upper = next ? r.upper[0] : value + w;
            element();
            start();
            number(STEP, h + 1);
            long t = r.horizonTime[h];
            if (t >= 0) {
                number(TIMESTAMP, t);
            } else {
                field(TIMESTAMP);
                bytes(NULL);
            }
            number(FORECAST, value);
            number(LOWER, lower);
            number(UPPER, upper);
            if (o > 1) {
                field(VALUES);
                array();
                for (int j = 0; j < o; j++) {
                    element();
                    number(steps == 1 ? r.nextForecast[j] : r.horizon[h * o + j]);
                }
                arrayEnd();
            }
            end();
        }
        arrayEnd();
        end();
        return Arrays.copyOf(buf, len);
    }

    byte[] anomaly(String key, ParsedEvent e, Outcome r) {
        len = 0;
        start();
        string(KEY, key);
        number(TIMESTAMP, r.timestamp);
        number(VALUE, r.value[0]);
        number(EXPECTED, r.forecast[0]);
        number(LOWER, r.forecast[0] - (r.upper[0] - r.lower[0]) / 2);
        number(UPPER, r.forecast[0] + (r.upper[0] - r.lower[0]) / 2);
        number(ANOMALY_SCORE, r.score);
        number(THRESHOLD, s.threshold());
        number(MODEL_VERSION, r.modelVersion);
        // which targets deviated, most first: "a user must see why"
        Integer[] order = new Integer[s.outputs()];
        for (int j = 0; j < order.length; j++) {
            order[j] = j;
        }
        Arrays.sort(order, (a, b) -> Double.compare(Math.abs(r.deviation[b]), Math.abs(r.deviation[a])));
        field(DEVIATIONS);
        array();
        for (int j : order) {
            targetStart(j);
            number(VALUE, r.value[j]);
            number(EXPECTED, r.forecast[j]);
            number(DEVIATION, r.deviation[j]);
            end();
        }
        arrayEnd();
        end();
        return Arrays.copyOf(buf, len);
    }

    // ------------------------------------------------------------------ JSON, into buf

    /** An array element: the object of target j, opened with its feature's name. */
    private void targetStart(int j) {
        element();
        start();
        field(FEATURE);
        bytes(featureNames[j]);
    }

    private void source(Outcome r) {
        field(SOURCE);
        bytes(SOURCES[r.source]);
    }

    private void start() {
        put('{');
        comma = false;
    }

    private void end() {
        put('}');
        comma = true; // an object inside an array or object is a value: what follows it needs a comma
    }

    private void array() {
        put('[');
        comma = false;
    }

    private void arrayEnd() {
        put(']');
        comma = true;
    }

    /** Before an array element. */
    private void element() {
        if (comma) {
            put(',');
        }
        comma = true;
    }

    /** A field name, as encoded by {@link #name}. */
    private void field(byte[] name) {
        if (comma) {
            put(',');
        }
        bytes(name);
        comma = true;
    }

    private void number(byte[] name, double v) {
        field(name);
        number(v);
    }

    private void number(double v) {
        if (!Double.isFinite(v)) {
            bytes(NULL);
            return;
        }
        // an event's records repeat some numbers (the next forecast and its interval are in the
        // enriched record and as the forecast record's first step): the digits of the last few
        // doubles are kept, since finding the shortest digits is the most expensive part of a record
        long bits = Double.doubleToRawLongBits(v);
        for (int i = 0; i < RECENT; i++) {
            if (recentBits[i] == bits && recentLength[i] > 0) {
                bytes(recentDigits[i], 0, recentLength[i]);
                return;
            }
        }
        room(ShortestDouble.MAX_CHARS);
        int at = len;
        len = shortest.write(v, buf, at);
        int slot = nextRecent;
        System.arraycopy(buf, at, recentDigits[slot], 0, len - at);
        recentLength[slot] = len - at;
        recentBits[slot] = bits;
        nextRecent = (slot + 1) % RECENT;
    }

    private void number(byte[] name, long v) {
        field(name);
        number(v);
    }

    /** A long's decimal digits, two at a time from the right, then copied in (no String on the way). */
    private void number(long v) {
        if (v == Long.MIN_VALUE) {
            bytes(LONG_MIN); // the one long without a positive counterpart
            return;
        }
        room(20);
        if (v < 0) {
            buf[len++] = '-';
            v = -v;
        }
        byte[] d = longDigits;
        byte[] pairs = ShortestDouble.PAIRS;
        int at = d.length;
        while (v >= 100) {
            long q = v / 100;
            int r = (int) (v - 100 * q);
            d[--at] = pairs[2 * r + 1];
            d[--at] = pairs[2 * r];
            v = q;
        }
        if (v >= 10) {
            d[--at] = pairs[2 * (int) v + 1];
            d[--at] = pairs[2 * (int) v];
        } else {
            d[--at] = (byte) ('0' + v);
        }
        System.arraycopy(d, at, buf, len, d.length - at);
        len += d.length - at;
    }

    private void bool(byte[] name, boolean v) {
        field(name);
        bytes(v ? TRUE : FALSE);
    }

    private void string(byte[] name, String v) {
        field(name);
        put('"');
        int n = v.length();
        if (plainAscii(v, n)) { // a sensor's key, nearly always: its chars are its bytes
            room(n);
            for (int i = 0; i < n; i++) {
                buf[len + i] = (byte) v.charAt(i);
            }
            len += n;
        } else {
            bytes(JsonStringEncoder.getInstance().quoteAsUTF8(v));
        }
        put('"');
    }

    /** Whether the string is printable ASCII that JSON needs no escape for (no quote, no backslash). */
    private static boolean plainAscii(String v, int n) {
        for (int i = 0; i < n; i++) {
            char c = v.charAt(i);
            if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
    }

    private static byte[] quoted(String v) {
        byte[] body = JsonStringEncoder.getInstance().quoteAsUTF8(v);
        byte[] q = new byte[body.length + 2];
        q[0] = '"';
        System.arraycopy(body, 0, q, 1, body.length);
        q[q.length - 1] = '"';
        return q;
    }

    private void put(char c) {
        room(1);
        buf[len++] = (byte) c;
    }

    private void bytes(byte[] b) {
        bytes(b, 0, b.length);
    }

    private void bytes(byte[] b, int from, int n) {
        room(n);
        System.arraycopy(b, from, buf, len, n);
        len += n;
    }

    private void room(int n) {
        if (len + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(2 * buf.length, len + n));
        }
    }

    /** A field name (Carousel's own, plain ASCII) as written: "name": */
    private static byte[] name(String n) {
        return encoded("\"" + n + "\":");
    }

    private static byte[] encoded(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
