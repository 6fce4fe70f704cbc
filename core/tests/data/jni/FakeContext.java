import java.io.File;

/**
 * Stands in for android.content.Context in the desktop JVM tests: the store only
 * calls getNoBackupFilesDir() on the context it is given.
 */
public final class FakeContext {
    private final String noBackupDir;

    public FakeContext(String noBackupDir) {
        this.noBackupDir = noBackupDir;
    }

    /** The directory passed to the constructor, or null when none was. */
    public File getNoBackupFilesDir() {
        return noBackupDir == null ? null : new File(noBackupDir);
    }
}
