using System.Globalization;

namespace WgRouted.Bench.Recorder;

/// <summary>CPU time of a PostgreSQL cluster: the postmaster, its live children, and the children it has reaped.</summary>
public static partial class PostgresCpu
{
    private const int ScClkTck = 2; // _SC_CLK_TCK in glibc's unistd.h

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SysConf(int name);

    public static TimeSpan Of(string dataDir)
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(dataDir, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        var hz = SysConf(ScClkTck);
        long ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                continue;
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue; // exited meanwhile
            }
            // Fields after "(comm)": state ppid ... utime(14) stime(15) cutime(16) cstime(17), numbered from pid = 1.
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ppid = int.Parse(f[1], CultureInfo.InvariantCulture);
            if (pid == postmaster)
                ticks += long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)
                    + long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture);
            else if (ppid == postmaster)
                ticks += long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
        }
        return TimeSpan.FromSeconds((double)ticks / hz);
    }
}
