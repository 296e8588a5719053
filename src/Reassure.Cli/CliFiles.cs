using Microsoft.ML.OnnxRuntime;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using System.CommandLine;

namespace Reassure.Cli;

/// <summary>Shared pieces of the verbs: the --header option, ONNX Runtime sessions with coded errors.</summary>
internal static class CliFiles
{
    /// <summary>The --header option of the verbs that read rows.</summary>
    public static Option<RowsHeader> HeaderOption() => new("--header")
    {
        Description = "Is the first line of the rows CSV a header? auto (default): only when none of its cells is a number; yes; no.",
        DefaultValueFactory = _ => RowsHeader.Auto,
    };

    /// <summary>An ONNX Runtime session on <paramref name="path"/>; RSR1008 (exit 2) when the runtime cannot load it.</summary>
    public static InferenceSession Session(string path)
    {
        if (!File.Exists(path)) throw new ReassureException(ErrorCodes.FileUnreadable, "the model file does not exist", path);
        try
        {
            return new InferenceSession(path);
        }
        catch (OnnxRuntimeException e)
        {
            throw OnnxRuntimeFloat32Evaluator.RuntimeError(e, path);
        }
    }

    /// <summary>Loads <paramref name="path"/> in ONNX Runtime and drops it: the check that the runtime accepts the model, before any work.</summary>
    public static void CheckRuntimeLoads(string path)
    {
        using var _ = Session(path);
    }

    /// <summary>The exit-code rules shown in every verb's help.</summary>
    public const string ExitCodes = " Exit codes: 0 success; 1 the work ran but failed (rows not fixed, property not proved, RSR2xxx/RSR3xxx); 2 bad input (RSR1xxx: files, options, output paths).";
}
