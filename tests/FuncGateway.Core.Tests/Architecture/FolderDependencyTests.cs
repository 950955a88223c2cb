using System.Text;
using Mono.Cecil;
using Xunit.Abstractions;

namespace FuncGateway.Core.Tests.Architecture;

/// <summary>
/// The shape of <c>shared/FuncGateway.Core</c>: <c>Model/</c> depends on no other folder, no two folders depend on
/// each other (directly or around a cycle), and nothing but the hosts depends on the composition root. Dependencies
/// are read from the compiled assembly (every type a type's signatures, attributes and method bodies use), so a fully
/// qualified name or a type the compiler found through a parent namespace counts as much as a <c>using</c>.
/// </summary>
public sealed class FolderDependencyTests(ITestOutputHelper output)
{
    /// <summary>The composition root: <c>GatewayCapabilities</c>, <c>RegistryFormat</c> and the DI entry points.</summary>
    private const string Root = "(root)";

    private static readonly Lazy<Graph> Dependencies = new(Graph.Read);

    [Fact]
    public void No_two_folders_of_the_core_depend_on_each_other_directly_or_through_a_cycle()
    {
        var graph = Dependencies.Value;
        output.WriteLine(graph.Describe());

        var cycles = graph.Cycles();
        Assert.True(cycles.Count == 0, "Folders in a dependency cycle:\n" + string.Join("\n", cycles.Select(graph.Explain)));
    }

    [Fact]
    public void Model_depends_on_no_other_folder()
    {
        var graph = Dependencies.Value;
        Assert.True(graph.Edges("Model").Count == 0, "Model depends on: " + graph.Explain(["Model", .. graph.Edges("Model")]));
    }

    [Fact]
    public void No_folder_depends_on_the_composition_root()
    {
        var graph = Dependencies.Value;
        var offenders = graph.Folders.Where(f => f != Root && graph.Edges(f).Contains(Root)).ToList();
        Assert.True(offenders.Count == 0, "Folders that depend on the composition root: " + string.Join(", ", offenders.Select(f => graph.Explain([f, Root]))));
    }

    [Fact]
    public void Every_source_file_declares_the_namespace_of_its_folder()
    {
        var core = Path.Combine(RepositoryRoot(), "shared", "FuncGateway.Core");
        var wrong = new List<string>();
        foreach (var file in Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(core, file);
            if (relative.StartsWith("bin", StringComparison.Ordinal) || relative.StartsWith("obj", StringComparison.Ordinal))
            {
                continue;
            }

            var ns = File.ReadLines(file).FirstOrDefault(l => l.StartsWith("namespace ", StringComparison.Ordinal))?["namespace ".Length..].TrimEnd(';', ' ');
            var folder = Path.GetDirectoryName(relative) is { Length: > 0 } dir ? dir.Split(Path.DirectorySeparatorChar)[0] : Root;
            if (ns is null || FolderOf(ns) != folder)
            {
                wrong.Add($"{relative}: namespace {ns ?? "(none)"}");
            }
        }

        Assert.True(wrong.Count == 0, "Files whose namespace is not their folder's:\n" + string.Join("\n", wrong));
    }

    /// <summary>The folder a namespace belongs to: <c>FuncGateway.X[.Y]</c> is folder X; the root namespaces are the composition root.</summary>
    private static string FolderOf(string ns) =>
        ns is "FuncGateway" or "Microsoft.Extensions.DependencyInjection" ? Root
        : ns.StartsWith("FuncGateway.", StringComparison.Ordinal) ? ns["FuncGateway.".Length..].Split('.')[0]
        : "(outside: " + ns + ")";

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FuncGateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("FuncGateway.sln not found above " + AppContext.BaseDirectory);
    }

    private sealed class Graph
    {
        private readonly Dictionary<string, SortedSet<string>> _edges = new(StringComparer.Ordinal);

        // One example per edge: which type used which, so a failure says where to look.
        private readonly Dictionary<(string From, string To), string> _examples = [];

        public IEnumerable<string> Folders => _edges.Keys.Order(StringComparer.Ordinal);

        public SortedSet<string> Edges(string folder) => _edges.TryGetValue(folder, out var edges) ? edges : [];

        public static Graph Read()
        {
            var graph = new Graph();
            var path = GatewayOptionsAnchor.Assembly.Location;
            using var module = ModuleDefinition.ReadModule(path);
            var own = new HashSet<string>(module.GetTypes().Select(t => t.FullName), StringComparer.Ordinal);
            foreach (var type in module.GetTypes())
            {
                var from = FolderOfType(type);
                if (from is null)
                {
                    continue;
                }

                graph._edges.TryAdd(from, []);
                foreach (var used in Uses(type))
                {
                    if (!own.Contains(used.FullName) || used.Resolve() is not { } definition || FolderOfType(definition) is not { } to || to == from)
                    {
                        continue;
                    }

                    if (graph._edges[from].Add(to))
                    {
                        graph._examples[(from, to)] = $"{type.FullName} uses {definition.FullName}";
                    }
                }
            }

            return graph;
        }

        /// <summary>Every cycle (strongly connected set of two or more folders), Tarjan's algorithm.</summary>
        public List<List<string>> Cycles()
        {
            var index = 0;
            var indices = new Dictionary<string, int>();
            var low = new Dictionary<string, int>();
            var stack = new Stack<string>();
            var onStack = new HashSet<string>();
            var result = new List<List<string>>();

            void Visit(string v)
            {
                indices[v] = low[v] = index++;
                stack.Push(v);
                onStack.Add(v);
                foreach (var w in Edges(v))
                {
                    if (!indices.ContainsKey(w))
                    {
                        Visit(w);
                        low[v] = Math.Min(low[v], low[w]);
                    }
                    else if (onStack.Contains(w) && indices.TryGetValue(w, out var wIndex))
                    {
                        low[v] = Math.Min(low[v], wIndex);
                    }
                }

                if (low[v] == indices[v])
                {
                    var component = new List<string>();
                    string w;
                    do
                    {
                        w = stack.Pop();
                        onStack.Remove(w);
                        component.Add(w);
                    }
                    while (w != v);
                    if (component.Count > 1)
                    {
                        result.Add(component);
                    }
                }
            }

            foreach (var folder in Folders.ToList())
            {
                if (!indices.ContainsKey(folder))
                {
                    Visit(folder);
                }
            }

            return result;
        }

        /// <summary>The edges among <paramref name="folders"/>, each with one example.</summary>
        public string Explain(IReadOnlyList<string> folders)
        {
            var text = new StringBuilder();
            foreach (var from in folders)
            {
                foreach (var to in Edges(from).Where(folders.Contains))
                {
                    text.Append("  ").Append(from).Append(" -> ").Append(to).Append(": ").AppendLine(_examples[(from, to)]);
                }
            }

            return text.ToString();
        }

        public string Describe() =>
            string.Join("\n", Folders.Select(f => $"{f} -> {(Edges(f).Count == 0 ? "(nothing)" : string.Join(", ", Edges(f)))}"));

        private static string? FolderOfType(TypeDefinition type)
        {
            while (type.DeclaringType is not null)
            {
                type = type.DeclaringType;
            }

            return type.Namespace.Length == 0 ? null : FolderOf(type.Namespace);
        }

        private static List<TypeReference> Uses(TypeDefinition type)
        {
            var found = new List<TypeReference>();
            void Add(TypeReference? t)
            {
                switch (t)
                {
                    case null:
                        return;
                    case GenericInstanceType generic:
                        Add(generic.ElementType);
                        foreach (var argument in generic.GenericArguments)
                        {
                            Add(argument);
                        }

                        return;
                    case TypeSpecification spec:
                        Add(spec.ElementType);
                        return;
                    case GenericParameter:
                        return;
                    default:
                        found.Add(t);
                        return;
                }
            }

            void AddMethod(MethodReference m)
            {
                Add(m.DeclaringType);
                Add(m.ReturnType);
                foreach (var p in m.Parameters)
                {
                    Add(p.ParameterType);
                }

                if (m is GenericInstanceMethod gm)
                {
                    foreach (var a in gm.GenericArguments)
                    {
                        Add(a);
                    }
                }
            }

            void AddAttributes(Mono.Collections.Generic.Collection<CustomAttribute> attributes)
            {
                foreach (var attribute in attributes)
                {
                    Add(attribute.AttributeType);
                    foreach (var argument in attribute.ConstructorArguments)
                    {
                        Add(argument.Value as TypeReference);
                    }
                }
            }

            Add(type.BaseType);
            foreach (var i in type.Interfaces)
            {
                Add(i.InterfaceType);
            }

            AddAttributes(type.CustomAttributes);
            foreach (var gp in type.GenericParameters)
            {
                foreach (var c in gp.Constraints)
                {
                    Add(c.ConstraintType);
                }
            }

            foreach (var f in type.Fields)
            {
                Add(f.FieldType);
                AddAttributes(f.CustomAttributes);
            }

            foreach (var p in type.Properties)
            {
                Add(p.PropertyType);
                AddAttributes(p.CustomAttributes);
            }

            foreach (var e in type.Events)
            {
                Add(e.EventType);
            }

            foreach (var m in type.Methods)
            {
                AddMethod(m);
                AddAttributes(m.CustomAttributes);
                foreach (var p in m.Parameters)
                {
                    AddAttributes(p.CustomAttributes);
                }

                if (!m.HasBody)
                {
                    continue;
                }

                foreach (var v in m.Body.Variables)
                {
                    Add(v.VariableType);
                }

                foreach (var instruction in m.Body.Instructions)
                {
                    switch (instruction.Operand)
                    {
                        case TypeReference t:
                            Add(t);
                            break;
                        case MethodReference mr:
                            AddMethod(mr);
                            break;
                        case FieldReference fr:
                            Add(fr.DeclaringType);
                            Add(fr.FieldType);
                            break;
                    }
                }
            }

            return found;
        }
    }
}

/// <summary>Any type of the core assembly, to find the assembly's file.</summary>
file static class GatewayOptionsAnchor
{
    public static System.Reflection.Assembly Assembly => typeof(FuncGateway.Model.RegistrySchema).Assembly;
}
