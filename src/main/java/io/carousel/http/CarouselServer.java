package io.carousel.http;

import io.carousel.config.CarouselConfig;
import io.carousel.streams.CarouselApp;
import io.carousel.streams.KeyQueries;
import java.time.Duration;
import java.util.function.Consumer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;

/**
 * One Carousel instance with its HTTP surface: the processor ({@link CarouselApp}), the API, the
 * metrics and the dashboard on one port. {@code run} and {@code demo} use it, and so do the tests,
 * which start several in one JVM.
 *
 * <p>Order matters at both ends. The HTTP server binds first, because Kafka Streams must be
 * created with the address it is reached at ({@code application.server}) and with http.port=0 the
 * port is known only once bound; it serves from then on, answering 503 until Kafka Streams runs.
 * {@link #close} stops Kafka Streams first (so no request sees a half-closed store as an empty
 * one: they get 503) and the HTTP server last, as in Confluent's interactive-query examples.
 */
public final class CarouselServer implements AutoCloseable {

    private final HttpSettings http;
    private final HttpFront front;
    private final CarouselMetrics metrics;
    private final String advertised;
    private volatile CarouselApp app;
    private volatile QueryService service;
    private volatile MetadataService metadata;
    private boolean closed;

    private CarouselServer(HttpSettings http, HttpFront front, CarouselMetrics metrics, String advertised) {
        this.http = http;
        this.front = front;
        this.metrics = metrics;
        this.advertised = advertised;
    }

    /**
     * Binds and starts the HTTP server, then prepares the processor (broker, topics, Kafka Streams,
     * not started). On failure everything started is stopped again.
     *
     * @throws IllegalArgumentException for HTTP settings that are refused (see {@link HttpSettings})
     * @throws IllegalStateException if the port cannot be bound, or as {@link CarouselApp#prepare}
     */
    public static CarouselServer prepare(CarouselConfig config, Consumer<String> progress) {
        HttpSettings http = HttpSettings.from(config);
        HttpFront front = HttpFront.bind(http.host(), http.port());
        CarouselMetrics metrics = new CarouselMetrics();
        CarouselServer s = new CarouselServer(http, front, metrics, http.advertised(front.port()));
        Api api = new Api(() -> s.service, () -> s.metadata, new Forwarder(), http.token(), metrics::scrape,
                config.forecastHorizon());
        front.start(api, new Dashboard());
        try {
            CarouselApp app = CarouselApp.prepare(config, progress, new CarouselApp.Options(s.advertised, metrics));
            String server = app.properties().getProperty(StreamsConfig.APPLICATION_SERVER_CONFIG, s.advertised);
            MetadataService md = new MetadataService(app.streams(), HostInfo.buildFromEndpoint(server),
                    app.settings().controlTopic());
            QueryService qs = new QueryService(app.streams(), new KeyQueries(app.settings(), app.models()), app.control(), md);
            metrics.bind(app.streams(), qs);
            s.app = app;
            s.metadata = md;
            s.service = qs;
            return s;
        } catch (RuntimeException e) {
            front.stop();
            metrics.close();
            throw e;
        }
    }

    /** Starts Kafka Streams. */
    public void start() {
        app.start();
    }

    public CarouselApp app() {
        return app;
    }

    /** The port the HTTP server listens on. */
    public int port() {
        return front.port();
    }

    /** host:port other instances reach this one at (application.server). */
    public String advertised() {
        return advertised;
    }

    /** The dashboard's address, for a person on this machine. */
    public String url() {
        String host = http.host();
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
            host = "127.0.0.1";
        }
        return "http://" + (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port() + "/";
    }

    public CarouselMetrics metrics() {
        return metrics;
    }

    /** Kafka Streams (and the embedded broker) first, then the HTTP server; idempotent. */
    @Override
    public synchronized void close() {
        close(CarouselApp.CLOSE_TIMEOUT);
    }

    public synchronized boolean close(Duration timeout) {
        if (closed) {
            return true;
        }
        closed = true;
        boolean clean = true;
        try {
            if (app != null) {
                clean = app.close(timeout);
            }
        } finally {
            front.stop();
            metrics.close();
        }
        return clean;
    }
}
