package io.carousel.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.carousel.http.Exchange.Request;
import io.carousel.http.Exchange.Response;
import io.carousel.streams.CarouselTopology;
import io.carousel.streams.Control;
import io.carousel.streams.KeyQueries;
import io.carousel.streams.ModelVersions;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API's routes: thin handlers that parse and check a request, ask {@link MetadataService}
 * where the key is, and either answer from {@link QueryService} here, forward the request to the
 * instance that owns the key, or answer 503 with Retry-After while nobody can answer correctly.
 * Lists ({@code GET /keys}, {@code GET /models}) gather every instance's page and check that
 * every partition answered exactly once, so a list is never silently short during a rebalance.
 *
 * <p>A forwarded request carries {@link #FORWARDED}; an instance that receives one never forwards
 * it again (if the metadata disagree, a rebalance is under way: 503), so a request makes at most
 * one hop. Writes need the bearer token (when {@code http.token} is set) on every instance.
 */
final class Api {

    private static final Logger LOG = LoggerFactory.getLogger(Api.class);

    static final String FORWARDED = "X-Carousel-Forwarded";
    /** Query parameter of an instance-to-instance list request: answer for this instance's partitions only. */
    static final String LOCAL = "scope";
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;
    static final int MAX_HORIZON = 1000;
    static final int MAX_BODY = 64 * 1024;
    /** How long a write waits for the stream task to apply it before answering 202 instead of 200. */
    static final Duration APPLY_TIMEOUT = Duration.ofSeconds(10);

    private final Supplier<QueryService> service;
    private final Supplier<MetadataService> metadata;
    private final Forwarder forwarder;
    private final Optional<String> token;
    private final Supplier<String> metrics;
    private final int defaultHorizon;

    /**
     * @param service  null until Kafka Streams exists (the server binds first, to learn its port)
     * @param metrics  the Prometheus scrape
     */
    Api(Supplier<QueryService> service, Supplier<MetadataService> metadata, Forwarder forwarder, Optional<String> token,
        Supplier<String> metrics, int defaultHorizon) {
        this.service = service;
        this.metadata = metadata;
        this.forwarder = forwarder;
        this.token = token;
        this.metrics = metrics;
        this.defaultHorizon = defaultHorizon;
    }

    /** Signals a 400 from anywhere in a handler. */
    static class BadRequest extends RuntimeException {
        BadRequest(String message) {
            super(message);
        }
    }

    Response handle(Request r) {
        try {
            return route(r);
        } catch (MethodNotAllowed e) {
            return Response.error(405, e.getMessage()).with("Allow", e.allowed);
        } catch (BadRequest e) {
            return Response.error(400, e.getMessage());
        } catch (QueryService.NotAvailable e) {
            return Response.unavailable(e.getMessage());
        } catch (IllegalStateException e) {
            // the control topic could not be written, Kafka Streams is closing, ...
            LOG.warn("{} {}: {}", r.method(), r.rawPath(), e.getMessage());
            return Response.unavailable(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Response.unavailable("interrupted");
        } catch (RuntimeException e) {
            LOG.error("{} {} failed", r.method(), r.rawPath(), e);
            return Response.error(500, "internal error: " + e);
        }
    }

    private Response route(Request r) throws InterruptedException {
        List<String> p;
        try {
            p = Exchange.segments(r.rawPath());
        } catch (IllegalArgumentException e) {
            throw new BadRequest("malformed path: " + e.getMessage());
        }
        Map<String, String> q;
        try {
            q = Exchange.query(r.rawQuery());
        } catch (IllegalArgumentException e) {
            throw new BadRequest("malformed query: " + e.getMessage());
        }
        String m = r.method();
        if (p.size() == 2 && p.get(0).equals("health")) {
            requireMethod(m, "GET");
            return switch (p.get(1)) {
                case "live" -> Response.json(200, status("UP"));
                case "ready" -> ready();
                default -> Response.error(404, "no such resource: " + r.rawPath());
            };
        }
        if (p.size() == 1 && p.get(0).equals("metrics")) {
            requireMethod(m, "GET");
            return Response.text(200, "text/plain; version=0.0.4; charset=utf-8", metrics.get());
        }
        if (!p.isEmpty() && p.get(0).equals("keys")) {
            if (p.size() == 1) {
                requireMethod(m, "GET");
                return keys(r, q);
            }
            String key = p.get(1);
            if (key.isEmpty()) {
                throw new BadRequest("empty key");
            }
            if (p.size() == 2) {
                requireMethod(m, "GET");
                return atOwner(r, key, (s, part) -> s.key(key, part).map(v -> Response.json(200, Views.key(v))));
            }
            if (p.size() == 3) {
                switch (p.get(2)) {
                    case "forecast" -> {
                        requireMethod(m, "GET");
                        int horizon = intParam(q, "horizon", defaultHorizon, 1, MAX_HORIZON);
                        return atOwner(r, key, (s, part) -> s.forecast(key, part, horizon).map(f -> Response.json(200, Views.rollout(f))));
                    }
                    case "series" -> {
                        requireMethod(m, "GET");
                        long since = longParam(q, "since", Long.MIN_VALUE);
                        int limit = intParam(q, "limit", 2000, 1, 100_000);
                        return atOwner(r, key, (s, part) -> s.series(key, part, since, limit)
                                .map(events -> Response.json(200, Views.series(key, events))));
                    }
                    case "feedback" -> {
                        requireMethod(m, "POST");
                        return feedback(r, key);
                    }
                    default -> {
                        return Response.error(404, "no such resource: " + r.rawPath());
                    }
                }
            }
        }
        if (!p.isEmpty() && p.get(0).equals("models")) {
            if (p.size() == 1) {
                requireMethod(m, "GET");
                return models(r, q);
            }
            String id = p.get(1);
            if (p.size() == 2) {
                requireMethod(m, "GET");
                QueryService s = service();
                if (!s.perKeyModels()) {
                    return s.groupModels().stream().filter(g -> g.id().equals(id)).findFirst()
                            .map(g -> Response.json(200, Views.model(g)))
                            .orElseGet(() -> Response.error(404, "no model " + id));
                }
                return atOwner(r, id, (sv, part) -> sv.model(id, part).map(v -> Response.json(200, Views.model(v))));
            }
            if (p.size() == 3 && p.get(2).equals("rollback")) {
                requireMethod(m, "POST");
                return rollback(r, id);
            }
        }
        return Response.error(404, "no such resource: " + r.rawPath());
    }

    private static ObjectNode status(String s) {
        ObjectNode n = Views.JSON.createObjectNode();
        n.put("status", s);
        return n;
    }

    private Response ready() {
        MetadataService md = metadata.get();
        String why = md == null ? "Kafka Streams is not created yet" : md.unavailable();
        if (why == null) {
            return Response.json(200, status("RUNNING"));
        }
        ObjectNode n = status(why.replace("Kafka Streams is ", ""));
        n.put("error", why);
        return Response.json(503, n).with("Retry-After", "1");
    }

    private QueryService service() {
        QueryService s = service.get();
        MetadataService md = metadata.get();
        if (s == null || md == null) {
            throw new QueryService.NotAvailable("Kafka Streams is not created yet", null);
        }
        String why = md.unavailable();
        if (why != null) {
            throw new QueryService.NotAvailable(why, null);
        }
        return s;
    }

    interface LocalQuery {
        Optional<Response> answer(QueryService s, int partition) throws InterruptedException;
    }

    /** Answers here if the key's active task is here, else forwards to the instance that has it. */
    private Response atOwner(Request r, String key, LocalQuery query) throws InterruptedException {
        QueryService s = service();
        MetadataService.Location where = metadata.get().locate(CarouselTopology.KEY_STATE_STORE, key);
        if (where instanceof MetadataService.Unavailable u) {
            return Response.unavailable(u.reason());
        }
        if (where instanceof MetadataService.Remote remote) {
            if (r.header(FORWARDED) != null) {
                return Response.unavailable("the instances disagree on who holds " + key + " (rebalancing)");
            }
            return forwarder.forward(remote.host(), r, metadata.get().self());
        }
        int partition = ((MetadataService.Local) where).partition();
        return query.answer(s, partition).orElseGet(() -> Response.error(404, "unknown key " + key));
    }

    private Response keys(Request r, Map<String, String> q) {
        String prefix = q.getOrDefault("prefix", "");
        boolean anomalous = boolParam(q, "anomalous", false);
        boolean localOnly = "local".equals(q.get(LOCAL));
        // one more than a page from each instance: whether there is a next page
        int limit = intParam(q, "limit", DEFAULT_LIMIT, 1, localOnly ? MAX_LIMIT + 1 : MAX_LIMIT);
        String after = q.get("after");
        QueryService s = service();
        QueryService.KeyPage local = s.localKeys(prefix, anomalous, after, localOnly ? limit : limit + 1);
        if (localOnly) {
            ObjectNode n = Views.JSON.createObjectNode();
            ArrayNode keys = n.putArray("keys");
            local.keys().forEach(k -> keys.add(Views.keySummary(k)));
            partitions(n, local.partitions());
            return Response.json(200, n);
        }
        List<JsonNode> all = new java.util.ArrayList<>();
        local.keys().forEach(k -> all.add(Views.keySummary(k)));
        return gathered(r, q, limit, local.partitions(), all, "keys", "key", Views.JSON.createObjectNode());
    }

    /**
     * One page of a list gathered from every instance: {@code all} holds this instance's entries;
     * each other instance answers for its own partitions (forwarded once); the page is complete only
     * when every partition answered exactly once, else 503 (a rebalance is under way). Entries are
     * sorted by {@code idField}, and {@code next} is the cursor of the last one shown when more remain.
     */
    private Response gathered(Request r, Map<String, String> q, int limit, Set<Integer> localPartitions, List<JsonNode> all,
                              String listField, String idField, ObjectNode n) {
        Set<Integer> answered = new HashSet<>(localPartitions);
        String remote = localQuery(q, limit);
        for (HostInfo h : metadata.get().others(CarouselTopology.KEY_STATE_STORE)) {
            JsonNode page = forwarder.get(h, r.rawPath() + "?" + remote, metadata.get().self());
            if (page == null) {
                return Response.unavailable("instance " + h + " did not answer");
            }
            if (!addPartitions(answered, page)) {
                return Response.unavailable("two instances claim a partition (rebalancing)");
            }
            page.path(listField).forEach(all::add);
        }
        Response incomplete = checkComplete(answered, CarouselTopology.KEY_STATE_STORE);
        if (incomplete != null) {
            return incomplete;
        }
        all.sort((a, b) -> QueryService.compare(a.path(idField).asText(), b.path(idField).asText()));
        ArrayNode list = n.has(listField) ? (ArrayNode) n.get(listField) : n.putArray(listField);
        all.stream().limit(limit).forEach(list::add);
        if (all.size() > limit) {
            n.put("next", all.get(limit - 1).path(idField).asText());
        } else {
            n.putNull("next");
        }
        return Response.json(200, n);
    }

    private Response models(Request r, Map<String, String> q) {
        String prefix = q.getOrDefault("prefix", "");
        boolean localOnly = "local".equals(q.get(LOCAL));
        int limit = intParam(q, "limit", DEFAULT_LIMIT, 1, localOnly ? MAX_LIMIT + 1 : MAX_LIMIT);
        String after = q.get("after");
        QueryService s = service();
        ObjectNode n = Views.JSON.createObjectNode();
        ArrayNode models = n.putArray("models");
        if (!s.perKeyModels()) {
            s.groupModels().stream().filter(g -> g.id().startsWith(prefix)).limit(limit)
                    .forEach(g -> models.add(Views.modelSummary(g)));
            n.putNull("next");
            return Response.json(200, n);
        }
        QueryService.ModelPage local = s.localModels(prefix, after, localOnly ? limit : limit + 1);
        if (localOnly) {
            local.models().forEach(mv -> models.add(Views.modelSummary(mv)));
            partitions(n, local.partitions());
            return Response.json(200, n);
        }
        List<JsonNode> all = new java.util.ArrayList<>();
        local.models().forEach(mv -> all.add(Views.modelSummary(mv)));
        return gathered(r, q, limit, local.partitions(), all, "models", "id", n);
    }

    /** The query another instance answers for its own partitions: the same filters, one more than a page. */
    private static String localQuery(Map<String, String> q, int limit) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : q.entrySet()) {
            if (!e.getKey().equals("limit") && !e.getKey().equals(LOCAL)) {
                b.append(enc(e.getKey())).append('=').append(enc(e.getValue())).append('&');
            }
        }
        return b.append("limit=").append(limit + 1).append('&').append(LOCAL).append("=local").toString();
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static void partitions(ObjectNode n, Set<Integer> partitions) {
        ArrayNode a = n.putArray("partitions");
        partitions.forEach(a::add);
    }

    private static boolean addPartitions(Set<Integer> answered, JsonNode page) {
        for (JsonNode p : page.path("partitions")) {
            if (!answered.add(p.asInt())) {
                return false;
            }
        }
        return true;
    }

    private Response checkComplete(Set<Integer> answered, String store) {
        Set<Integer> all = metadata.get().allPartitions(store);
        if (all.isEmpty() || !answered.equals(all)) {
            return Response.unavailable("partitions " + all + " but answers for " + answered + " (rebalancing)");
        }
        return null;
    }

    private Response feedback(Request r, String key) throws InterruptedException {
        Response denied = authorise(r);
        if (denied != null) {
            return denied;
        }
        JsonNode body = body(r);
        long timestamp = timestamp(body.get("timestamp"));
        JsonNode a = body.get("anomaly");
        if (a == null || !a.isBoolean()) {
            throw new BadRequest("field anomaly: expected true or false");
        }
        boolean anomaly = a.asBoolean();
        return atOwner(r, key, (s, part) -> {
            if (s.key(key, part).isEmpty()) {
                return Optional.empty();
            }
            switch (s.checkFeedback(key, part, timestamp, anomaly)) {
                case NO_EVENT -> {
                    return Optional.of(Response.error(404, "key " + key + " has no event at " + timestamp
                            + " in its history"));
                }
                case NOT_FLAGGED -> {
                    return Optional.of(Response.error(409, "the event of " + key + " at " + timestamp
                            + " was not flagged; \"anomaly\": false marks a flagged event as a false positive"));
                }
                case ALREADY_FLAGGED -> {
                    return Optional.of(Response.error(409, "the event of " + key + " at " + timestamp
                            + " is already flagged as an anomaly"));
                }
                default -> { }
            }
            long offset = s.send(key, part, Control.feedback(timestamp, anomaly));
            boolean applied = s.awaitApplied(key, part, offset, APPLY_TIMEOUT);
            ObjectNode n = Views.JSON.createObjectNode();
            n.put("key", key);
            n.put("timestamp", timestamp);
            n.put("anomaly", anomaly);
            n.put("applied", applied);
            if (applied) {
                s.key(key, part).ifPresent(v -> n.set("state", Views.key(v)));
            }
            return Optional.of(Response.json(applied ? 200 : 202, n));
        });
    }

    private Response rollback(Request r, String id) throws InterruptedException {
        Response denied = authorise(r);
        if (denied != null) {
            return denied;
        }
        if (r.body().length > 0) {
            body(r); // must be JSON if present
        }
        if (!service().perKeyModels()) {
            return atOwner(r, id, (s, part) -> groupRollback(s, id, part));
        }
        return atOwner(r, id, (s, part) -> {
            if (s.model(id, part).isEmpty()) {
                return Optional.empty();
            }
            QueryService.RollbackCheck c = s.checkRollback(id, part);
            if (!c.possible()) {
                return Optional.of(Response.error(409, c.reason()));
            }
            long offset = s.send(id, part, Control.rollback());
            boolean applied = s.awaitApplied(id, part, offset, APPLY_TIMEOUT);
            ObjectNode n = Views.JSON.createObjectNode();
            n.put("id", id);
            n.put("from", c.from());
            n.put("to", c.to());
            n.put("applied", applied);
            if (applied) {
                s.model(id, part).ifPresent(mv -> n.put("serving", mv.serving()));
            }
            return Optional.of(Response.json(applied ? 200 : 202, n));
        });
    }

    /**
     * A group model's rollback: the control record goes to a forecast task, which hands it to the
     * task that trains the group; that task publishes the previous weights again as the next version
     * (see GroupTrainer), and the answer waits until this instance's global store serves it.
     */
    private Optional<Response> groupRollback(QueryService s, String id, int part) throws InterruptedException {
        Optional<QueryService.ModelView> g = s.groupModel(id);
        if (g.isEmpty()) {
            return Optional.empty();
        }
        long serving = g.get().serving();
        ModelVersions.Version v = g.get().versions().get(0);
        if (serving <= s.queries().initialVersion() || v.untrained()) {
            return Optional.of(Response.error(409, "model " + id + " serves its initial model; there is nothing to roll back to"));
        }
        long restores = Math.max(v.previous(), s.queries().initialVersion());
        if (restores > s.queries().initialVersion() && !v.weightsKept(restores)) {
            return Optional.of(Response.error(409, "the weights of version " + restores + " are no longer kept"));
        }
        s.send(id, part, Control.rollback());
        boolean applied = s.awaitGroupVersion(id, serving, APPLY_TIMEOUT);
        ObjectNode n = Views.JSON.createObjectNode();
        n.put("id", id);
        n.put("from", serving);
        n.put("to", serving + 1);
        n.put("restores", restores);
        n.put("applied", applied);
        if (applied) {
            s.groupModel(id).ifPresent(mv -> n.put("serving", mv.serving()));
        }
        return Optional.of(Response.json(applied ? 200 : 202, n));
    }

    /** Null if the request may write; else the 401. */
    private Response authorise(Request r) {
        if (token.isEmpty()) {
            return null;
        }
        String h = r.header("Authorization");
        byte[] want = ("Bearer " + token.get()).getBytes(StandardCharsets.UTF_8);
        if (h != null && MessageDigest.isEqual(want, h.strip().getBytes(StandardCharsets.UTF_8))) {
            return null;
        }
        return Response.error(401, h == null ? "this write needs 'Authorization: Bearer <http.token>'" : "wrong token")
                .with("WWW-Authenticate", "Bearer realm=\"carousel\"");
    }

    private static JsonNode body(Request r) {
        if (r.body().length > MAX_BODY) {
            throw new BadRequest("body larger than " + MAX_BODY + " bytes");
        }
        JsonNode n;
        try {
            n = Views.JSON.readTree(r.body());
        } catch (java.io.IOException e) {
            throw new BadRequest("body is not JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
        }
        if (n == null || !n.isObject()) {
            throw new BadRequest("body must be a JSON object");
        }
        return n;
    }

    /** Epoch milliseconds, or an ISO-8601 instant. */
    static long timestamp(JsonNode t) {
        if (t == null || t.isNull()) {
            throw new BadRequest("field timestamp: missing (epoch milliseconds or ISO-8601)");
        }
        if (t.isIntegralNumber() && t.canConvertToLong()) {
            return t.asLong();
        }
        if (t.isTextual()) {
            try {
                return Instant.parse(t.asText()).toEpochMilli();
            } catch (DateTimeParseException e) {
                throw new BadRequest("field timestamp: not an ISO-8601 instant: " + t.asText());
            }
        }
        throw new BadRequest("field timestamp: expected epoch milliseconds or ISO-8601, got " + t);
    }

    private static void requireMethod(String method, String allowed) {
        if (!method.equals(allowed) && !(allowed.equals("GET") && method.equals("HEAD"))) {
            throw new MethodNotAllowed(allowed);
        }
    }

    /** 405, carried out of a route. */
    static final class MethodNotAllowed extends BadRequest {
        final String allowed;

        MethodNotAllowed(String allowed) {
            super("method not allowed; use " + allowed);
            this.allowed = allowed;
        }
    }

    static int intParam(Map<String, String> q, String name, int otherwise, int min, int max) {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            return otherwise;
        }
        try {
            int i = Integer.parseInt(v);
            if (i < min || i > max) {
                throw new BadRequest("parameter " + name + ": expected an integer between " + min + " and " + max + ", got " + v);
            }
            return i;
        } catch (NumberFormatException e) {
            throw new BadRequest("parameter " + name + ": expected an integer between " + min + " and " + max + ", got '" + v + "'");
        }
    }

    static long longParam(Map<String, String> q, String name, long otherwise) {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            return otherwise;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new BadRequest("parameter " + name + ": expected an integer, got '" + v + "'");
        }
    }

    static boolean boolParam(Map<String, String> q, String name, boolean otherwise) {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            return otherwise;
        }
        return switch (v) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new BadRequest("parameter " + name + ": expected true or false, got '" + v + "'");
        };
    }
}
