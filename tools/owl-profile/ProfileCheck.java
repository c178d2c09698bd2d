// OWL 2 DL profile checker built on the OWL API (Debian package libowlapi-java).
//
// Usage: java -cp <owlapi classpath> ProfileCheck FILE
//   FILE: Turtle (.ttl), RDF/XML (.rdf/.owl/.xml) or N-Triples (.nt); other
//         extensions are loaded with OWL API's format auto-detection.
// Output (stdout): one line per OWL 2 DL profile violation (violation.toString()),
//   (sorted), then one line per RDF triple the OWL API reports as unparsed
//   (could not be mapped to OWL; rare: OWL API 5.1 drops most unmappable
//   triples, e.g. stray rdf:first/rdf:rest or incomplete restrictions,
//   silently), then the last line "violations: N" (N counts both kinds).
// Exit: 0 if N == 0, 1 if N > 0, 2 on a load/parse/usage error (message on stderr).
//
// No network access: owl:imports are ignored (not fetched, not in the imports
// closure) and http/https/ftp URL handlers are replaced by ones that refuse to
// connect, as a backstop.

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.formats.NTriplesDocumentFormat;
import org.semanticweb.owlapi.formats.RDFXMLDocumentFormat;
import org.semanticweb.owlapi.formats.TurtleDocumentFormat;
import org.semanticweb.owlapi.io.FileDocumentSource;
import org.semanticweb.owlapi.io.OWLOntologyLoaderMetaData;
import org.semanticweb.owlapi.model.IRI;
import org.semanticweb.owlapi.model.MissingImportHandlingStrategy;
import org.semanticweb.owlapi.model.OWLDocumentFormat;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyLoaderConfiguration;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;

public class ProfileCheck {

    /** Refuses every remote URL connection (imports are ignored anyway). */
    private static void blockNetwork() {
        URL.setURLStreamHandlerFactory(protocol -> {
            switch (protocol.toLowerCase(Locale.ROOT)) {
                case "http":
                case "https":
                case "ftp":
                    return new URLStreamHandler() {
                        @Override
                        protected URLConnection openConnection(URL u) throws IOException {
                            System.err.println("ProfileCheck: blocked network access to " + u);
                            throw new IOException("network access disabled: " + u);
                        }
                    };
                default:
                    return null; // JDK default handler (file:, jar:, ...)
            }
        });
    }

    private static OWLDocumentFormat formatFor(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.endsWith(".ttl") || n.endsWith(".turtle")) return new TurtleDocumentFormat();
        if (n.endsWith(".nt")) return new NTriplesDocumentFormat();
        if (n.endsWith(".rdf") || n.endsWith(".owl") || n.endsWith(".xml")) return new RDFXMLDocumentFormat();
        return null; // let the OWL API guess
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: ProfileCheck FILE   (Turtle, RDF/XML or N-Triples)");
            System.exit(2);
        }
        File file = new File(args[0]);
        if (!file.isFile() || !file.canRead()) {
            System.err.println("ProfileCheck: cannot read file: " + args[0]);
            System.exit(2);
        }
        blockNetwork();

        // Setters copy the configuration into a plain instance, so set what we
        // can first, then subclass to force "ignore every import".
        OWLOntologyLoaderConfiguration base = new OWLOntologyLoaderConfiguration()
                .setMissingImportHandlingStrategy(MissingImportHandlingStrategy.SILENT)
                .setFollowRedirects(false)
                .setRetriesToAttempt(0)
                .setConnectionTimeout(1);
        OWLOntologyLoaderConfiguration config = new OWLOntologyLoaderConfiguration() {
            private static final long serialVersionUID = 1L;
            @Override public boolean isIgnoredImport(IRI iri) { return true; }
            @Override public MissingImportHandlingStrategy getMissingImportHandlingStrategy() {
                return MissingImportHandlingStrategy.SILENT;
            }
            @Override public boolean isFollowRedirects() { return false; }
            @Override public boolean isReportStackTrace() { return false; }
            @Override public int getRetriesToAttempt() { return base.getRetriesToAttempt(); }
            @Override public int getConnectionTimeout() { return base.getConnectionTimeout(); }
        };

        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        manager.setOntologyLoaderConfiguration(config);

        OWLOntology ont;
        try {
            OWLDocumentFormat fmt = formatFor(file.getName());
            FileDocumentSource source = fmt == null
                    ? new FileDocumentSource(file)
                    : new FileDocumentSource(file, fmt);
            ont = manager.loadOntologyFromOntologyDocument(source, config);
        } catch (Throwable e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            System.err.println("ProfileCheck: failed to load " + args[0] + ": " + msg);
            System.exit(2);
            return;
        }

        OWLProfileReport report = new OWL2DLProfile().checkOntology(ont);
        // sorted: the report's order depends on hash iteration order
        List<String> violations = report.getViolations().stream()
                .map(OWLProfileViolation::toString).sorted().collect(Collectors.toList());
        violations.forEach(System.out::println);

        List<String> unparsed = List.of();
        OWLDocumentFormat loadedFormat = manager.getOntologyFormat(ont);
        if (loadedFormat != null) {
            unparsed = loadedFormat.getOntologyLoaderMetaData()
                    .map(OWLOntologyLoaderMetaData::getUnparsedTriples)
                    .map(s -> s.map(t -> "Unparsed triple (dropped: no OWL 2 DL mapping): " + t)
                            .sorted().collect(Collectors.toList()))
                    .orElse(List.of());
        }
        unparsed.forEach(System.out::println);

        int n = violations.size() + unparsed.size();
        System.out.println("violations: " + n);
        System.out.flush();
        System.exit(n == 0 ? 0 : 1);
    }
}
