using System.CommandLine;
using Reassure.Cli.Commands;

namespace Reassure.Cli;

/// <summary>
/// The `reassure` command line. Exit codes: 0 success, 2 bad input (RSR1xxx errors, bad arguments), 1 anything else.
/// Errors are printed as <c>RSRxxxx: where: what</c> to the error writer.
/// </summary>
public static class ReassureCli
{
    /// <summary>Exit code for success.</summary>
    public const int Ok = 0;

    /// <summary>Exit code for errors other than bad input.</summary>
    public const int Failure = 1;

    /// <summary>Exit code for bad input (files, arguments).</summary>
    public const int BadInput = 2;

    /// <summary>Runs the command line with the given writers; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Reassure: provable repair of ReLU networks (REASSURE, ICLR 2022).")
        {
            InspectCommand.Create(output, error),
            EvalCommand.Create(output, error),
            RepairCommand.Create(output, error),
            VerifyCommand.Create(output, error),
            AreaCommand.Create(output, error),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) error.WriteLine(e.Message);
            return BadInput;
        }
        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    /// <summary>Runs a command body and maps exceptions to exit codes and messages.</summary>
    internal static int Guard(TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ReassureException e)
        {
            error.WriteLine(e.Message);
            return e.Code.StartsWith("RSR1", StringComparison.Ordinal) ? BadInput : Failure;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{ErrorCodes.FileUnreadable}: {e.Message}");
            return BadInput;
        }
        catch (Exception e)
        {
            error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            return Failure;
        }
    }
}
