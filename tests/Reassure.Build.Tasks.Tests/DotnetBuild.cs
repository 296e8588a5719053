using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Reassure.Build.Tasks.Tests;

/// <summary>Runs a real `dotnet build -nodeReuse:false` on a fixture project with the repository's build/ files.</summary>
internal static class DotnetBuild
{
    private static string Metadata(string key) =>
        typeof(DotnetBuild).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static string RepositoryRoot => Metadata("RepositoryRoot");

    /// <summary>The task as built by this test run's configuration, with its .deps.json and native runtimes beside it.</summary>
    public static string TasksAssembly =>
        Path.Combine(RepositoryRoot, "src", "Reassure.Build.Tasks", "bin", Metadata("Configuration"), "net10.0", "Reassure.Build.Tasks.dll");

    public static (int ExitCode, string Output) Run(string folder, params string[] properties)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "build", "-nodeReuse:false", "-v:n", "-p:UseSharedCompilation=false",
                     $"-p:ReassureBuildDir={Path.Combine(RepositoryRoot, "build")}/", $"-p:ReassureTasksAssembly={TasksAssembly}" }.Concat(properties))
            start.ArgumentList.Add(arg);
        // The test host may run under `dotnet test`, whose MSBuild variables would steer the child build.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(key);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet build did not finish in 5 minutes:\n{output}");
        }
        process.WaitForExit();
        return (process.ExitCode, output.ToString());
    }
}
