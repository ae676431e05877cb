package io.carousel.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.carousel.http.Exchange.Request;
import io.carousel.http.Exchange.Response;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The routes' own work, without Kafka: parsing and checking requests, authorisation, and 503
 * while there is no Kafka Streams to ask (the service suppliers give null, as between binding the
 * port and creating Kafka Streams). The answers that need state are in {@link HttpEndToEndTest}.
 */
class ApiTest {

    private final Api api = new Api(() -> null, () -> null, new Forwarder(), Optional.of("s3cret"), () -> "# metrics\n", 1);

    private static JsonNode json(Response r) throws Exception {
        return Views.JSON.readTree(r.body());
    }

    private Response post(String path, String body, String auth) {
        Map<String, String> h = auth == null ? Map.of() : Map.of("Authorization", auth);
        return api.handle(Request.of("POST", path, h, body.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void shouldBeLiveButNotReadyBeforeKafkaStreamsRuns() throws Exception {
        Response live = api.handle(Request.get("/health/live"));
        assertEquals(200, live.status());
        assertEquals("UP", json(live).get("status").asText());
        Response ready = api.handle(Request.get("/health/ready"));
        assertEquals(503, ready.status());
        assertEquals("1", ready.headers().get("Retry-After"));
    }

    @Test
    void shouldAnswer503WithRetryAfterForQueriesUntilKafkaStreamsRuns() throws Exception {
        for (String path : List.of("/keys", "/keys/a", "/keys/a/forecast?horizon=3", "/models", "/models/a")) {
            Response r = api.handle(Request.get(path));
            assertEquals(503, r.status(), path);
            assertEquals("1", r.headers().get("Retry-After"), path);
            assertTrue(json(r).get("error").asText().contains("not created yet"), path);
        }
    }

    @Test
    void shouldRefuseMalformedRequestsWith400AndAJsonError() throws Exception {
        for (String path : List.of("/keys/a/forecast?horizon=0", "/keys/a/forecast?horizon=x", "/keys/a/forecast?horizon=1001",
                "/keys?limit=0", "/keys?limit=5000", "/keys?anomalous=yes", "/keys/a/series?since=soon", "/keys/%zz")) {
            Response r = api.handle(Request.get(path));
            assertEquals(400, r.status(), path);
            assertEquals("application/json; charset=utf-8", r.contentType());
            assertEquals(400, json(r).get("status").asInt());
            assertTrue(json(r).get("error").asText().length() > 5, path);
        }
        String auth = "Bearer s3cret";
        assertEquals(400, post("/keys/a/feedback", "not json", auth).status());
        assertEquals(400, post("/keys/a/feedback", "[1]", auth).status());
        assertEquals(400, post("/keys/a/feedback", "{\"anomaly\": false}", auth).status());
        assertEquals(400, post("/keys/a/feedback", "{\"timestamp\": \"yesterday\", \"anomaly\": false}", auth).status());
        assertEquals(400, post("/keys/a/feedback", "{\"timestamp\": 1700000000000, \"anomaly\": \"no\"}", auth).status());
        assertEquals("field anomaly: expected true or false",
                json(post("/keys/a/feedback", "{\"timestamp\": 1700000000000}", auth)).get("error").asText());
    }

    @Test
    void shouldRequireTheBearerTokenForWritesOnly() throws Exception {
        String body = "{\"timestamp\": 1700000000000, \"anomaly\": false}";
        Response none = post("/keys/a/feedback", body, null);
        assertEquals(401, none.status());
        assertEquals("Bearer realm=\"carousel\"", none.headers().get("WWW-Authenticate"));
        assertEquals(401, post("/keys/a/feedback", body, "Bearer wrong").status());
        assertEquals(401, post("/models/a/rollback", "", "Basic czNjcmV0").status());
        // with the token the request gets as far as Kafka Streams, which is not there yet
        assertEquals(503, post("/keys/a/feedback", body, "Bearer s3cret").status());
        assertEquals(503, post("/models/a/rollback", "", "Bearer s3cret").status());
        assertEquals(503, api.handle(Request.get("/keys/a")).status(), "reads need no token");
    }

    @Test
    void shouldAnswer404ForUnknownRoutesAnd405ForWrongMethods() throws Exception {
        assertEquals(404, api.handle(Request.get("/nothing")).status());
        assertEquals(404, api.handle(Request.get("/keys/a/b/c")).status());
        Response r = api.handle(Request.of("DELETE", "/keys/a", Map.of(), null));
        assertEquals(405, r.status());
        assertEquals("GET", r.headers().get("Allow"));
        assertEquals(405, api.handle(Request.get("/keys/a/feedback")).status());
        Response metrics = api.handle(Request.get("/metrics"));
        assertEquals(200, metrics.status());
        assertTrue(metrics.contentType().startsWith("text/plain; version=0.0.4"));
    }

    @Test
    void shouldDecodeKeysInPathsAndTimestampsInBodies() {
        assertEquals(List.of("keys", "plant/7 a+b", "forecast"), Exchange.segments("/keys/plant%2F7%20a+b/forecast"));
        assertEquals(Map.of("prefix", "a b", "limit", "3"), Exchange.query("prefix=a+b&limit=3"));
        assertEquals(1_700_000_000_000L, Api.timestamp(Views.JSON.getNodeFactory().numberNode(1_700_000_000_000L)));
        assertEquals(1_700_000_000_000L, Api.timestamp(Views.JSON.getNodeFactory().textNode("2023-11-14T22:13:20Z")));
        assertThrows(Api.BadRequest.class, () -> Api.timestamp(Views.JSON.getNodeFactory().numberNode(1.5)));
    }

    @Test
    void shouldRefuseANonLoopbackAddressWithoutATokenUnlessToldTo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new HttpSettings("0.0.0.0", 0, Optional.empty(), false, Optional.empty()).check());
        assertTrue(e.getMessage().startsWith("config key http.host: 0.0.0.0 is not a loopback address"), e.getMessage());
        new HttpSettings("0.0.0.0", 0, Optional.of("t"), false, Optional.empty()).check();
        new HttpSettings("0.0.0.0", 0, Optional.empty(), true, Optional.empty()).check();
        new HttpSettings("127.0.0.1", 0, Optional.empty(), false, Optional.empty()).check();
        new HttpSettings("localhost", 0, Optional.empty(), false, Optional.empty()).check();
        assertEquals("127.0.0.1:8080", new HttpSettings("127.0.0.1", 0, Optional.empty(), false, Optional.empty()).advertised(8080));
        assertEquals("node-7:81", new HttpSettings("0.0.0.0", 0, Optional.of("t"), false, Optional.of("node-7")).advertised(81));
    }
}
