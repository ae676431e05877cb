package io.carousel.cli;

import io.carousel.config.CarouselConfig;
import io.carousel.kafka.EmbeddedKafkaException;
import io.carousel.http.CarouselServer;
import io.carousel.streams.CarouselApp;
import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code run}: the processor. With {@code bootstrap.servers} empty it first starts the embedded
 * single-node broker; then it creates the missing topics and runs Kafka Streams until SIGTERM or
 * Ctrl-C (exit 0) or until Kafka Streams fails (exit 1, with a one-line reason).
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run the processor: events in; enriched events, forecasts, anomalies and dead letters out.",
            "With bootstrap.servers empty (the default) it starts an embedded single-node Kafka broker on "
                + "127.0.0.1:<embedded.port> first, keeping its data in embedded.dir.",
            "Serves the query API, /metrics and the dashboard on http.host:http.port.",
            "Stops cleanly on SIGTERM or Ctrl-C."})
final class RunCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    ConfigOptions config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        return serve(config.load(), spec.commandLine().getOut(), spec.commandLine().getErr(), null);
    }

    /** What {@code demo} adds to a run: started once Kafka Streams runs, stopped before it closes. */
    interface Extra {
        void start(CarouselServer server);

        void stop();
    }

    /**
     * Runs Carousel with its HTTP surface until SIGTERM or Ctrl-C (0) or until Kafka Streams fails
     * (1); {@code extra} (may be null) runs beside it.
     */
    static int serve(CarouselConfig cfg, PrintWriter out, PrintWriter err, Extra extra) throws InterruptedException {
        CarouselServer server;
        try {
            server = CarouselServer.prepare(cfg, step -> {
                out.println(step + "...");
                out.flush();
            });
        } catch (EmbeddedKafkaException e) {
            String msg = oneLine(e.getMessage());
            if (msg.endsWith("is already in use") && msg.contains(":" + cfg.embeddedPort() + " ")) {
                msg += " (another broker or `carousel run` is there: set embedded.port to start one elsewhere,"
                        + " or bootstrap.servers=127.0.0.1:" + cfg.embeddedPort() + " to use it)";
            }
            return fail(err, msg);
        } catch (IllegalStateException | KafkaException e) {
            return fail(err, oneLine(e.getMessage()));
        }
        CarouselApp app = server.app();

        CountDownLatch wake = new CountDownLatch(1);
        AtomicInteger signals = new AtomicInteger();
        AtomicBoolean ranBefore = new AtomicBoolean();
        app.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) {
                boolean first = !ranBefore.getAndSet(true);
                if (first) {
                    out.println("dashboard    " + server.url());
                }
                out.println("Kafka Streams is RUNNING" + (first ? " (Ctrl-C to stop)" : ""));
                out.flush();
            } else if (now == KafkaStreams.State.REBALANCING && before == KafkaStreams.State.RUNNING) {
                out.println("Kafka Streams is REBALANCING");
                out.flush();
            } else if (!app.isClosing() && (now == KafkaStreams.State.PENDING_ERROR || now == KafkaStreams.State.ERROR
                    || now == KafkaStreams.State.PENDING_SHUTDOWN || now == KafkaStreams.State.NOT_RUNNING)) {
                wake.countDown();
            }
        });
        Thread hook = new Thread(() -> {
            if (extra != null) {
                extra.stop();
            }
            server.close(CarouselApp.CLOSE_TIMEOUT);
        }, "carousel-shutdown");
        List<Runnable> restoreSignals = new ArrayList<>();
        try {
            printBanner(out, server);
            Runtime.getRuntime().addShutdownHook(hook);
            restoreSignals.addAll(onStopSignals(() -> {
                if (signals.incrementAndGet() > 1) {
                    err.println("carousel: stopping now, without waiting for Kafka Streams");
                    err.flush();
                    Runtime.getRuntime().halt(130);
                }
                wake.countDown();
            }));
            try {
                server.start();
            } catch (IllegalStateException | KafkaException e) {
                return fail(err, "cannot start Kafka Streams: " + oneLine(e.getMessage()));
            }
            if (extra != null) {
                extra.start(server);
            }
            wake.await();
            if (extra != null) {
                extra.stop();
            }

            if (signals.get() > 0) {
                out.println("stopping...");
                out.flush();
                boolean clean = server.close(CarouselApp.CLOSE_TIMEOUT);
                out.println(clean ? "stopped" : "stopped (Kafka Streams did not finish within "
                        + CarouselApp.CLOSE_TIMEOUT.toSeconds() + " s)");
                out.flush();
                return 0;
            }
            KafkaStreams.State state = app.state();
            server.close(CarouselApp.CLOSE_TIMEOUT);
            return fail(err, app.failure()
                    .map(t -> "Kafka Streams failed: " + describe(t))
                    .orElse("Kafka Streams stopped unexpectedly (state " + state + ")"));
        } finally {
            restoreSignals.forEach(Runnable::run);
            if (extra != null) {
                extra.stop();
            }
            server.close(CarouselApp.CLOSE_TIMEOUT);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException | IllegalArgumentException e) {
                // the JVM is already shutting down (the hook then runs, and finds the app closed), or it was never added
            }
        }
    }

    private static void printBanner(PrintWriter out, CarouselServer server) {
        CarouselApp app = server.app();
        CarouselConfig c = app.config();
        String kafka = app.broker()
                .map(b -> app.bootstrapServers() + " (embedded broker, data in " + b.dataDir() + ")")
                .orElse(app.bootstrapServers());
        out.println("Kafka        " + kafka);
        out.println("application  " + app.applicationId() + " (" + app.processingGuarantee() + ")");
        out.println("state dir    " + app.stateDir());
        out.println("events       " + c.topicEvents());
        out.println("enriched     " + c.topicEnriched());
        out.println("forecasts    " + c.topicForecasts());
        out.println("anomalies    " + c.topicAnomalies());
        out.println("dead-letter  " + c.topicDeadLetter());
        out.println("models       " + c.topicModels());
        out.println("control      " + c.topicControl());
        out.println("http         " + server.url() + " (API, /metrics, dashboard; application.server "
                + app.properties().getProperty(org.apache.kafka.streams.StreamsConfig.APPLICATION_SERVER_CONFIG) + ")");
        out.flush();
    }

    private static int fail(PrintWriter err, String message) {
        err.println("carousel: " + message);
        err.flush();
        return 1;
    }

    /** The innermost cause that says something, on one line. */
    static String describe(Throwable t) {
        Throwable best = t;
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null && !c.getMessage().isBlank()) {
                best = c;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        String msg = best.getMessage();
        return best.getClass().getSimpleName() + (msg == null ? "" : ": " + oneLine(msg));
    }

    static String oneLine(String s) {
        return String.valueOf(s).replaceAll("\\s*\\R\\s*", " ").strip();
    }

    /**
     * Makes SIGTERM and SIGINT call {@code action} instead of exiting the JVM, so that {@code run}
     * stops Kafka Streams and the broker itself and exits 0; returns what restores the previous
     * handlers. Uses sun.misc.Signal through reflection (jdk.unsupported: present in every
     * OpenJDK build, but javac warns about naming it); where it is missing, the shutdown hook
     * still stops everything, only the exit status is then the JVM's (143 or 130).
     */
    private static List<Runnable> onStopSignals(Runnable action) {
        List<Runnable> restore = new ArrayList<>();
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            InvocationHandler ih = (proxy, method, args) -> {
                switch (method.getName()) {
                    case "handle" -> action.run();
                    case "hashCode" -> {
                        return System.identityHashCode(proxy);
                    }
                    case "equals" -> {
                        return proxy == args[0];
                    }
                    case "toString" -> {
                        return "carousel-stop-signal-handler";
                    }
                    default -> { }
                }
                return null;
            };
            Object handler = Proxy.newProxyInstance(handlerClass.getClassLoader(), new Class<?>[] {handlerClass}, ih);
            for (String name : List.of("TERM", "INT")) {
                try {
                    Object signal = signalClass.getConstructor(String.class).newInstance(name);
                    Object previous = handle.invoke(null, signal, handler);
                    restore.add(() -> {
                        try {
                            handle.invoke(null, signal, previous);
                        } catch (ReflectiveOperationException e) {
                            LOG.debug("cannot restore the handler of SIG{}", name, e);
                        }
                    });
                } catch (ReflectiveOperationException | RuntimeException e) {
                    // e.g. SIGINT ignored by the shell (a background job): keep the JVM's default
                    LOG.debug("cannot handle SIG{}", name, e);
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("no signal handling; the shutdown hook stops Carousel", e);
        }
        return restore;
    }
}
