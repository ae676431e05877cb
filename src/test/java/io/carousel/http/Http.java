package io.carousel.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** curl for the tests: requests to a Carousel's HTTP server and their answers, JSON parsed. */
final class Http {

    record Answer(int status, HttpResponse<String> response) {
        JsonNode json() {
            try {
                return Views.JSON.readTree(response.body());
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + response.body(), e);
            }
        }

        String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }

        String body() {
            return response.body();
        }

        @Override
        public String toString() {
            return status + " " + response.body();
        }
    }

    /**
     * One whole instance for an end-to-end test: embedded broker and HTTP server on free ports, its
     * data under {@code dir}, 2 partitions, commits every 100 ms, writes behind {@code token}, and a
     * small model that trains quickly and is always accepted ({@code retrain.every-events} is the
     * test's to set).
     */
    static Map<String, String> instance(Path dir, String applicationId, String token) {
        Map<String, String> cfg = new HashMap<>();
        cfg.put("embedded.port", "0");
        cfg.put("embedded.dir", dir.resolve("kafka").toString());
        cfg.put("state.dir", dir.resolve("state").toString());
        cfg.put("application.id", applicationId);
        cfg.put("commit.interval.ms", "100");
        cfg.put("topic.partitions", "2");
        cfg.put("http.port", "0");
        cfg.put("http.token", token);
        cfg.put("retrain.seq-len", "16");
        cfg.put("retrain.max-regression", "1000");
        cfg.put("retrain.drift", "false");
        cfg.put("model.hidden", "8");
        return cfg;
    }

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final String base;

    Http(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    Answer get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    Answer post(String path, String body, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return send(b);
    }

    Answer send(HttpRequest.Builder b) {
        try {
            HttpResponse<String> r = CLIENT.send(b.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r);
        } catch (IOException e) {
            throw new AssertionError("request failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
