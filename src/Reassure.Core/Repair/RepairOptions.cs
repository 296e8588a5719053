using Reassure.Networks;

namespace Reassure.Repair;

/// <summary>How a patch is computed (method.md §3).</summary>
public enum PatchMode
{
    /// <summary>Scale and shift along the specification rows: 2k small LPs per region (default).</summary>
    Fast,
    /// <summary>The smallest affine patch in max-norm over the region, by LP duality.</summary>
    Minimal,
}

/// <summary>How a patch is gated to its region (method.md §4).</summary>
public enum SupportKind
{
    /// <summary>Signs read from the network's own pre-activations (default).</summary>
    ActivationPattern,
    /// <summary>Explicit affine rows A x &lt;= b of the region's polytope.</summary>
    PolytopeRows,
    /// <summary>
    /// The local box only (with <see cref="RepairOptions.LocalBox"/>), plus any split rows: no pattern rows, so the gate reads
    /// only the network input. Sound where the network is affine on the whole box (feature-space repair before one affine layer).
    /// </summary>
    Box,
}

/// <summary>Options of a repair run.</summary>
public sealed record RepairOptions
{
    /// <summary>Patch form.</summary>
    public PatchMode Mode { get; init; } = PatchMode.Fast;

    /// <summary>Support (gating) form.</summary>
    public SupportKind Support { get; init; } = SupportKind.ActivationPattern;

    /// <summary>Starting sharpness gamma of every support (method.md §4); raised automatically where soundness needs it.</summary>
    public double Gamma { get; init; } = 1.0;

    /// <summary>Largest gamma the soundness loop may reach before it reports RSR3005.</summary>
    public double MaxGamma { get; init; } = 1e9;

    /// <summary>The input domain D; null takes the network's own domain, else the box of the buggy inputs widened to [0, 1] where they fit.</summary>
    public InputBox? Domain { get; init; }

    /// <summary>Threads for regions (1 = sequential). The result does not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Check every buggy input in float32 through ONNX Runtime too (the exported graph), and raise gamma where it fails.</summary>
    public bool CheckFloat32 { get; init; } = true;

    /// <summary>
    /// The float32 evaluator of the soundness check: the runtime the exported graph will run in (the front doors pass
    /// Reassure.Formats.Onnx.OnnxRuntimeFloat32Evaluator). Required when <see cref="CheckFloat32"/> is set; the engine
    /// never picks one itself.
    /// </summary>
    public IFloat32Evaluator? Float32Evaluator { get; init; }

    /// <summary>Run the independent LP check of every patch over its whole region.</summary>
    public bool VerifyPatches { get; init; } = true;

    /// <summary>
    /// Form of the independent check: by default rows the build solved exactly are re-proved from their LP multipliers
    /// (weak duality, no LP), rows the build's dual simplex stopped early on by that stop plus the patch's own term, and
    /// any other row in a fresh solver; CertificateAndLp also solves the stopped rows again; Layered and Polytope solve
    /// every row.
    /// </summary>
    public Patching.PatchVerifier.CheckFormulation CheckFormulation { get; init; } = Patching.PatchVerifier.CheckFormulation.Certificate;

    /// <summary>
    /// Which solver the patch build asks first for its region LPs: Auto (the input-space dual simplex, whose answers are
    /// kept only with a checked certificate, GLOP otherwise) or Glop (GLOP only, the layered model).
    /// </summary>
    public Lp.RegionLpEngine LpEngine { get; init; } = Lp.RegionLpEngine.Auto;

    /// <summary>
    /// Box supports (method.md §13): when set (r in (0, 0.5]), every patch is limited to a box around its inputs, of
    /// half-width r times the point's largest magnitude max_k |x_k| in each dimension (shrunk so that it keeps clear of the
    /// other buggy inputs; the domain's widths where the point is 0),
    /// and its region is cut to that box: the patch is proved and minimal on region ∩ box, and the gate is 0 once the
    /// scaled violations of the box add up to 1/gamma (gamma starts at max(Gamma, 1/r)). Null (default): the regions and
    /// supports of method.md §4. Feature-space repair uses it where the network after the tensor is one affine layer.
    /// </summary>
    public double? LocalBox { get; init; }

    /// <summary>Stop after this many patches (regions); the rest are reported unfixed with RSR3004.</summary>
    public int? MaxPatches { get; init; }

    /// <summary>Time budget; when hit the remaining inputs are reported unfixed with RSR3004.</summary>
    public TimeSpan? MaxTime { get; init; }

    /// <summary>
    /// Checks the values every front door passes (RSR1060 naming the option, the value and the range): Gamma finite in
    /// (0, MaxGamma], MaxGamma finite, MaxDegreeOfParallelism &gt;= 1, MaxPatches &gt;= 0, MaxTime &gt; 0, and a Float32Evaluator when CheckFloat32 is set.
    /// </summary>
    public void Validate()
    {
        static ReassureException Bad(string name, string value, string expected) =>
            new(ErrorCodes.InvalidOption, $"value '{value}' is out of range; expected {expected}", $"RepairOptions.{name}");
        static string F(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        if (!double.IsFinite(MaxGamma) || MaxGamma <= 0) throw Bad(nameof(MaxGamma), F(MaxGamma), "a finite number > 0");
        if (!double.IsFinite(Gamma) || Gamma <= 0 || Gamma > MaxGamma) throw Bad(nameof(Gamma), F(Gamma), $"a finite number in (0, {F(MaxGamma)}]");
        if (MaxDegreeOfParallelism < 1) throw Bad(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism.ToString(System.Globalization.CultureInfo.InvariantCulture), "an integer >= 1");
        if (MaxPatches is int p && p < 0) throw Bad(nameof(MaxPatches), p.ToString(System.Globalization.CultureInfo.InvariantCulture), "an integer >= 0 or none");
        if (LocalBox is double r && !(r > 0 && r <= 0.5)) throw Bad(nameof(LocalBox), F(r), "a number in (0, 0.5] or none");
        if (Support == SupportKind.Box && LocalBox is null) throw Bad(nameof(Support), "Box", "ActivationPattern or PolytopeRows, or set LocalBox");
        if (MaxTime is TimeSpan t && t <= TimeSpan.Zero) throw Bad(nameof(MaxTime), t.ToString(), "a positive time or none");
        if (CheckFloat32 && Float32Evaluator is null)
            throw Bad(nameof(Float32Evaluator), "null", "the float32 evaluator of the runtime the model will run in (e.g. OnnxRuntimeFloat32Evaluator), or CheckFloat32 = false");
    }
}

/// <summary>Progress of a repair run.</summary>
/// <param name="Stage">regions, patches, soundness, verify, export.</param>
/// <param name="Done">Units done in the stage.</param>
/// <param name="Total">Units in the stage.</param>
public sealed record RepairProgress(string Stage, int Done, int Total);
