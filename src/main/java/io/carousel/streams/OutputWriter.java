package io.carousel.streams;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Formats an {@link Outcome} as the three output records. The field names are an interface
 * (documented in the README): change them only with a new format.
 *
 * <p>The enriched record is the original JSON object, byte for byte, with a {@code carousel}
 * object spliced in before its closing brace, so every original field and its formatting survive.
 */
final class OutputWriter {

    /** Schubfach for doubles (shortest round-trip digits, several times faster than Double.toString). */
    private static final JsonFactory JSON = JsonFactory.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();

    private static final byte[] SPLICE_FIRST = "\"carousel\":".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    private static final byte[] SPLICE_NEXT = ",\"carousel\":".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    private final StreamSettings s;
    private final ByteArrayBuilder buf = new ByteArrayBuilder(512);

    OutputWriter(StreamSettings settings) {
        this.s = settings;
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
        boolean empty = original[before] == '{';
        buf.reset();
        buf.write(original, 0, end);
        byte[] splice = empty ? SPLICE_FIRST : SPLICE_NEXT;
        buf.write(splice, 0, splice.length);
        try (JsonGenerator g = JSON.createGenerator(buf, JsonEncoding.UTF8)) {
            g.writeStartObject();
            number(g, "forecast", r.forecast[0]);
            number(g, "error", r.error[0]);
            g.writeNumberField("anomalyScore", r.score);
            g.writeBooleanField("anomaly", r.anomaly);
            number(g, "nextForecast", r.nextForecast[0]);
            number(g, "lower", r.lower[0]);
            number(g, "upper", r.upper[0]);
            g.writeNumberField("modelVersion", r.modelVersion);
            g.writeStringField("source", KeyState.sourceName(r.source));
            g.writeBooleanField("warm", r.warm);
            g.writeNumberField("count", r.count);
            if (s.outputs() > 1) {
                g.writeArrayFieldStart("targets");
                for (int j = 0; j < s.outputs(); j++) {
                    g.writeStartObject();
                    g.writeStringField("feature", s.features().get(j));
                    number(g, "forecast", r.forecast[j]);
                    number(g, "error", r.error[j]);
                    number(g, "deviation", r.deviation[j]);
                    number(g, "nextForecast", r.nextForecast[j]);
                    number(g, "lower", r.lower[j]);
                    number(g, "upper", r.upper[j]);
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        buf.write(original, end, original.length - end);
        return buf.toByteArray();
    }

    byte[] forecast(String key, Outcome r) {
        buf.reset();
        try (JsonGenerator g = JSON.createGenerator(buf, JsonEncoding.UTF8)) {
            g.writeStartObject();
            g.writeStringField("key", key);
            g.writeNumberField("timestamp", r.timestamp);
            g.writeNumberField("modelVersion", r.modelVersion);
            g.writeStringField("source", KeyState.sourceName(r.source));
            g.writeArrayFieldStart("horizon");
            int o = s.outputs();
            int steps = r.horizonTime.length;
            for (int h = 0; h < steps; h++) {
                double value = steps == 1 ? r.nextForecast[0] : r.horizon[h * o];
                // the interval widens with the horizon as a random walk's would: sqrt(h)
                double w = (r.upper[0] - r.lower[0]) / 2 * Math.sqrt(h + 1);
                g.writeStartObject();
                g.writeNumberField("step", h + 1);
                long t = r.horizonTime[h];
                if (t >= 0) {
                    g.writeNumberField("timestamp", t);
                } else {
                    g.writeNullField("timestamp");
                }
                number(g, "forecast", value);
                number(g, "lower", value - w);
                number(g, "upper", value + w);
                if (o > 1) {
                    g.writeArrayFieldStart("values");
                    for (int j = 0; j < o; j++) {
                        double v = steps == 1 ? r.nextForecast[j] : r.horizon[h * o + j];
                        g.writeNumber(v);
                    }
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return buf.toByteArray();
    }

    byte[] anomaly(String key, ParsedEvent e, Outcome r) {
        buf.reset();
        try (JsonGenerator g = JSON.createGenerator(buf, JsonEncoding.UTF8)) {
            g.writeStartObject();
            g.writeStringField("key", key);
            g.writeNumberField("timestamp", r.timestamp);
            number(g, "value", r.value[0]);
            number(g, "expected", r.forecast[0]);
            number(g, "lower", r.forecast[0] - (r.upper[0] - r.lower[0]) / 2);
            number(g, "upper", r.forecast[0] + (r.upper[0] - r.lower[0]) / 2);
            g.writeNumberField("anomalyScore", r.score);
            g.writeNumberField("threshold", s.threshold());
            g.writeNumberField("modelVersion", r.modelVersion);
            // which targets deviated, most first: "a user must see why"
            List<String> names = s.features();
            Integer[] order = new Integer[s.outputs()];
            for (int j = 0; j < order.length; j++) {
                order[j] = j;
            }
            java.util.Arrays.sort(order, (a, b) -> Double.compare(Math.abs(r.deviation[b]), Math.abs(r.deviation[a])));
            g.writeArrayFieldStart("deviations");
            for (int j : order) {
                g.writeStartObject();
                g.writeStringField("feature", names.get(j));
                number(g, "value", r.value[j]);
                number(g, "expected", r.forecast[j]);
                number(g, "deviation", r.deviation[j]);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return buf.toByteArray();
    }

    /** JSON has no NaN: a missing number (no forecast yet) is null. */
    private static void number(JsonGenerator g, String name, double v) throws IOException {
        if (Double.isFinite(v)) {
            g.writeNumberField(name, v);
        } else {
            g.writeNullField(name);
        }
    }
}
