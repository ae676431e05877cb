package io.carousel.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.carousel.streams.History;
import io.carousel.streams.KeyQueries;
import io.carousel.streams.ModelVersions;
import java.util.List;

/**
 * The JSON the API answers with: field names are an interface (documented in the README).
 * Numbers that do not exist yet (no forecast before a key's first event) are null, as JSON has
 * no NaN; times are epoch milliseconds (event time, as in the events and the output topics), null
 * where there is none.
 */
final class Views {

    static final ObjectMapper JSON = new ObjectMapper();

    private Views() { }

    static ObjectNode error(int status, String message) {
        ObjectNode n = JSON.createObjectNode();
        n.put("status", status);
        n.put("error", message);
        return n;
    }

    static ObjectNode key(KeyQueries.KeyView v) {
        ObjectNode n = JSON.createObjectNode();
        n.put("key", v.key());
        if (v.model() != null) {
            n.put("model", v.model());
        }
        number(n, "value", v.lastValues().length == 0 ? Double.NaN : v.lastValues()[0]);
        if (v.lastValues().length > 1) {
            ArrayNode values = n.putArray("values");
            for (double d : v.lastValues()) {
                values.add(d);
            }
        }
        time(n, "timestamp", v.lastTimestamp());
        ObjectNode f = n.putObject("forecast");
        number(f, "value", v.forecast());
        number(f, "lower", v.lower());
        number(f, "upper", v.upper());
        time(f, "timestamp", v.nextTimestamp());
        number(n, "score", v.score());
        n.put("anomalous", v.anomalous());
        n.put("anomalies", v.anomalies());
        time(n, "lastAnomaly", v.lastAnomalyAt());
        number(n, "threshold", v.threshold());
        ObjectNode fb = n.putObject("feedback");
        fb.put("falsePositives", v.falsePositives());
        fb.put("missedAnomalies", v.missedAnomalies());
        n.put("events", v.events());
        n.put("modelVersion", v.modelVersion());
        n.put("source", v.source());
        n.put("warm", v.warm());
        return n;
    }

    /** A key in a list: what the dashboard's list shows. */
    static ObjectNode keySummary(KeyQueries.KeyView v) {
        ObjectNode n = JSON.createObjectNode();
        n.put("key", v.key());
        number(n, "value", v.lastValues().length == 0 ? Double.NaN : v.lastValues()[0]);
        time(n, "timestamp", v.lastTimestamp());
        number(n, "score", v.score());
        n.put("anomalous", v.anomalous());
        n.put("anomalies", v.anomalies());
        time(n, "lastAnomaly", v.lastAnomalyAt());
        n.put("events", v.events());
        n.put("modelVersion", v.modelVersion());
        return n;
    }

    static ObjectNode rollout(KeyQueries.Rollout r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("key", r.key());
        time(n, "from", r.fromTimestamp());
        n.put("modelVersion", r.modelVersion());
        n.put("source", r.source());
        ArrayNode steps = n.putArray("horizon");
        for (KeyQueries.Step s : r.steps()) {
            ObjectNode o = steps.addObject();
            o.put("step", s.step());
            time(o, "timestamp", s.timestamp());
            number(o, "forecast", s.forecast());
            number(o, "lower", s.lower());
            number(o, "upper", s.upper());
        }
        return n;
    }

    /** Columns, not objects: the chart takes arrays, and 2,000 points stay small. */
    static ObjectNode series(String key, List<History.Event> events) {
        ObjectNode n = JSON.createObjectNode();
        n.put("key", key);
        ArrayNode t = n.putArray("t");
        ArrayNode value = n.putArray("value");
        ArrayNode forecast = n.putArray("forecast");
        ArrayNode lower = n.putArray("lower");
        ArrayNode upper = n.putArray("upper");
        ArrayNode anomaly = n.putArray("anomaly");
        for (History.Event e : events) {
            t.add(e.timestamp());
            add(value, e.features().length == 0 ? Double.NaN : e.features()[0]);
            add(forecast, e.forecast());
            add(lower, e.forecast() - e.halfWidth());
            add(upper, e.forecast() + e.halfWidth());
            anomaly.add(e.anomaly());
        }
        return n;
    }

    static ObjectNode model(QueryService.ModelView m) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", m.id());
        n.put("serving", m.serving());
        ArrayNode versions = n.putArray("versions");
        for (ModelVersions.Version v : m.versions()) {
            ObjectNode o = versions.addObject();
            o.put("version", v.version());
            o.put("serving", v.version() == m.serving());
            time(o, "trainedAt", v.number("model.trained-at", -1));
            ObjectNode span = o.putObject("dataSpan");
            time(span, "from", v.number("model.span-start", -1));
            time(span, "to", v.number("model.span-end", -1));
            span.put("events", v.number("model.events", 0));
            ObjectNode loss = o.putObject("loss");
            number(loss, "train", v.real("model.train-loss"));
            number(loss, "validation", v.real("model.val-loss"));
            number(loss, "previousValidation", v.real("model.previous-val-loss"));
            o.put("previousVersion", v.previous());
            time(o, "rolledBackAt", v.number("model.rolled-back-at", -1));
            if (v.number("model.restored-from", -1) >= 0) {
                o.put("restoredFrom", v.number("model.restored-from", -1)); // a group rollback published this version
            }
            o.put("weightsKept", v.hasWeights() || v.version() == m.serving());
        }
        return n;
    }

    static ObjectNode modelSummary(QueryService.ModelView m) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", m.id());
        n.put("serving", m.serving());
        n.put("versions", m.versions().size());
        ModelVersions.Version last = m.versions().isEmpty() ? null : m.versions().get(m.versions().size() - 1);
        time(n, "lastTrainedAt", last == null ? -1 : last.number("model.trained-at", -1));
        return n;
    }

    static void number(ObjectNode n, String field, double v) {
        if (Double.isFinite(v)) {
            n.put(field, v);
        } else {
            n.putNull(field);
        }
    }

    private static void add(ArrayNode a, double v) {
        if (Double.isFinite(v)) {
            a.add(v);
        } else {
            a.addNull();
        }
    }

    /** Epoch milliseconds; null for none (negative). */
    static void time(ObjectNode n, String field, long ms) {
        if (ms < 0) {
            n.putNull(field);
        } else {
            n.put(field, ms);
        }
    }
}
