using System.Reflection;
using System.Reflection.Emit;
using Reassure.Networks;

namespace Reassure.Tests;

/// <summary>
/// The engine's namespaces depend one way (docs/architecture.md): every reference from a type in one stage to a type in
/// another, read by reflection from signatures and from the IL of every method body, must point to an earlier stage.
/// </summary>
[TestClass]
public sealed class NamespaceDependencyTests
{
    /// <summary>The stages in order; a namespace may use only namespaces of a smaller rank.</summary>
    private static readonly Dictionary<string, int> Rank = new()
    {
        ["Reassure"] = 0,               // ErrorCodes, ReassureException
        ["Reassure.Networks"] = 1,      // layers, evaluation, patterns, linear bounds
        ["Reassure.Specifications"] = 2, // output specifications, VNN-LIB properties, labelled rows
        ["Reassure.Regions"] = 3,
        ["Reassure.Lp"] = 4,
        ["Reassure.Patching"] = 5,
        ["Reassure.Verification"] = 6,
        ["Reassure.Causality"] = 6,
        ["Reassure.Repair"] = 7,
        ["Reassure.Formats"] = 8,       // readers and writers, including Formats.Onnx.Proto
    };

    private static readonly Assembly Core = typeof(Network).Assembly;

    [TestMethod]
    public void EveryReferenceBetweenNamespacesPointsToAnEarlierStage()
    {
        var edges = Edges();
        var unknown = edges.SelectMany(e => new[] { e.From, e.To }).Where(n => Stage(n) is null).Distinct().ToList();
        Assert.IsEmpty(unknown, "namespaces without a stage (add them to Rank): " + string.Join(", ", unknown));
        var back = edges
            .Where(e => Stage(e.From) != Stage(e.To) && Rank[Stage(e.From)!] <= Rank[Stage(e.To)!])
            .Select(e => $"{e.From} -> {e.To} ({e.Where})")
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.IsEmpty(back, "back-edges between namespaces:\n" + string.Join("\n", back));
    }

    [TestMethod]
    public void TheReaderSeesReferencesInMethodBodies()
    {
        // Known forward edges that only appear inside method bodies or signatures; if the reader missed them the test above
        // could pass vacuously.
        var edges = Edges().Select(e => (Stage(e.From) ?? "", Stage(e.To) ?? "")).ToHashSet();
        Assert.Contains(("Reassure.Repair", "Reassure.Patching"), edges);
        Assert.Contains(("Reassure.Lp", "Reassure.Networks"), edges);
        Assert.Contains(("Reassure.Formats", "Reassure.Repair"), edges);
        Assert.Contains(("Reassure.Verification", "Reassure.Lp"), edges);
    }

    /// <summary>The stage a namespace belongs to: its longest prefix among the ranked ones.</summary>
    private static string? Stage(string ns) =>
        Rank.Keys.Where(k => ns == k || ns.StartsWith(k + ".", StringComparison.Ordinal)).OrderByDescending(k => k.Length).FirstOrDefault();

    private static List<(string From, string To, string Where)> Edges()
    {
        var edges = new List<(string, string, string)>();
        foreach (var type in Core.GetTypes())
        {
            string from = NamespaceOf(type);
            if (!from.StartsWith("Reassure", StringComparison.Ordinal)) continue;
            foreach (var (used, where) in References(type))
            {
                foreach (var t in Expand(used))
                {
                    if (t.Assembly != Core) continue;
                    string to = NamespaceOf(t);
                    if (to != from && to.StartsWith("Reassure", StringComparison.Ordinal)) edges.Add((from, to, $"{type.FullName} {where} uses {t.FullName}"));
                }
            }
        }
        return edges;
    }

    /// <summary>The namespace of a type, nested and compiler-generated types taking their outermost type's.</summary>
    private static string NamespaceOf(Type t)
    {
        while (t.DeclaringType is not null) t = t.DeclaringType;
        return t.Namespace ?? "";
    }

    /// <summary>A type with its element and generic argument types.</summary>
    private static IEnumerable<Type> Expand(Type? t)
    {
        if (t is null) yield break;
        if (t.HasElementType) { foreach (var e in Expand(t.GetElementType())) yield return e; yield break; }
        if (t.IsGenericParameter) yield break;
        yield return t.IsGenericType ? t.GetGenericTypeDefinition() : t;
        if (t.IsGenericType) foreach (var a in t.GetGenericArguments()) foreach (var e in Expand(a)) yield return e;
    }

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static IEnumerable<(Type Used, string Where)> References(Type type)
    {
        if (type.BaseType is { } b) yield return (b, "base");
        foreach (var i in type.GetInterfaces()) yield return (i, "interface");
        foreach (var f in type.GetFields(All)) yield return (f.FieldType, "field " + f.Name);
        foreach (var p in type.GetProperties(All)) yield return (p.PropertyType, "property " + p.Name);
        var methods = type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All));
        foreach (var m in methods)
        {
            if (m is MethodInfo mi) yield return (mi.ReturnType, "method " + m.Name);
            foreach (var p in m.GetParameters()) yield return (p.ParameterType, "method " + m.Name);
            foreach (var used in BodyReferences(m)) yield return (used, "body of " + m.Name);
        }
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>Types named by the IL of a method body (type, field, method and token operands).</summary>
    private static IEnumerable<Type> BodyReferences(MethodBase m)
    {
        byte[]? il;
        try { il = m.GetMethodBody()?.GetILAsByteArray(); }
        catch (InvalidOperationException) { il = null; }
        if (il is null) yield break;
        var typeArgs = m.DeclaringType is { IsGenericType: true } dt ? dt.GetGenericArguments() : null;
        var methodArgs = m.IsGenericMethod ? m.GetGenericArguments() : null;
        var locals = m.GetMethodBody()!.LocalVariables.Select(l => l.LocalType).ToList();
        foreach (var l in locals) yield return l;
        int pos = 0;
        while (pos < il.Length)
        {
            short value = il[pos] == 0xFE ? (short)(0xFE00 | il[pos + 1]) : il[pos];
            pos += il[pos] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineType:
                case OperandType.InlineMethod:
                case OperandType.InlineField:
                case OperandType.InlineTok:
                    int token = BitConverter.ToInt32(il, pos);
                    var member = m.Module.ResolveMember(token, typeArgs, methodArgs);
                    if (member is Type t) yield return t;
                    else if (member is not null)
                    {
                        if (member.DeclaringType is { } d) yield return d;
                        if (member is MethodInfo called)
                        {
                            yield return called.ReturnType;
                            foreach (var p in called.GetParameters()) yield return p.ParameterType;
                            if (called.IsGenericMethod) foreach (var a in called.GetGenericArguments()) yield return a;
                        }
                        if (member is FieldInfo field) yield return field.FieldType;
                    }
                    pos += 4;
                    break;
                case OperandType.InlineSwitch:
                    int n = BitConverter.ToInt32(il, pos);
                    pos += 4 + 4 * n;
                    break;
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar: pos += 1; break;
                case OperandType.InlineVar: pos += 2; break;
                case OperandType.InlineI8:
                case OperandType.InlineR: pos += 8; break;
                default: pos += 4; break; // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
            }
        }
    }
}
