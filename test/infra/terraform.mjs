// Terraform checks without terraform (not in Debian): every .tf parses (@cdktf/hcl2json); every var.x is
// declared; every local.x is defined; every resource or data source referenced anywhere exists; and the
// Terraform and CloudFormation stacks expose the same parameters, containers, ports and environment
// variable names. Usage: node terraform.mjs REPO_ROOT   (run with NODE_PATH=test/node/node_modules)
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';
const require = createRequire(path.join(process.argv[2], 'test/node/package.json'));
const { parse } = require('@cdktf/hcl2json');

const root = process.argv[2];
let failures = 0;
const fail = (m) => { failures++; console.log('FAIL ' + m); };
const ok = (m) => console.log('ok   ' + m);

function snake(camel) { return camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase(); }

// Minimal reader for our CloudFormation YAML: we only need Parameters names and the container blocks,
// so read them with a CloudFormation-aware YAML parse done by python (yaml with tag passthrough).
import { execFileSync } from 'child_process';
function cfn(file) {
  const py = `
import sys, json, yaml
class L(yaml.SafeLoader): pass
def t(l, s, n):
    if isinstance(n, yaml.ScalarNode): return {s: l.construct_scalar(n)}
    if isinstance(n, yaml.SequenceNode): return {s: l.construct_sequence(n, deep=True)}
    return {s: l.construct_mapping(n, deep=True)}
L.add_multi_constructor('!', t)
print(json.dumps(yaml.load(open(sys.argv[1]), Loader=L)))`;
  return JSON.parse(execFileSync('python3', ['-c', py, file]).toString());
}

async function tfStack(dir) {
  const merged = { variable: {}, locals: {}, resource: {}, data: {}, output: {}, text: '' };
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.tf'))) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    let j;
    try { j = await parse(f, text); } catch (e) { fail(`${dir}/${f} does not parse: ${e}`); continue; }
    ok(`${path.relative(root, dir)}/${f} parses`);
    merged.text += text + '\n';
    for (const k of ['variable', 'resource', 'data', 'output']) Object.assign(merged[k], j[k] || {});
    for (const l of j.locals || []) Object.assign(merged.locals, l);
  }
  return merged;
}

function checkRefs(name, tf) {
  const text = tf.text.replace(/#.*$/gm, '');
  const vars = new Set([...text.matchAll(/\bvar\.([a-zA-Z0-9_]+)/g)].map((m) => m[1]));
  for (const v of vars) if (!tf.variable[v]) fail(`${name}: var.${v} used but not declared`);
  const locals = new Set([...text.matchAll(/\blocal\.([a-zA-Z0-9_]+)/g)].map((m) => m[1]));
  for (const l of locals) if (!(l in tf.locals)) fail(`${name}: local.${l} used but not defined`);
  const res = [...text.matchAll(/\b(aws_[a-z0-9_]+)\.([a-zA-Z0-9_]+)\b/g)];
  for (const [, type, rname] of res) {
    if (type === 'aws') continue;
    const inRes = tf.resource[type] && tf.resource[type][rname];
    const inData = /\bdata\.$/.test(text.slice(0, 0)) || (tf.data[type] && tf.data[type][rname]);
    if (!inRes && !inData) fail(`${name}: ${type}.${rname} referenced but not defined`);
  }
  for (const [oname, o] of Object.entries(tf.output)) {
    const body = JSON.stringify(o);
    for (const [, type, rname] of body.matchAll(/\b(aws_[a-z0-9_]+)\.([a-zA-Z0-9_]+)/g)) {
      if (!(tf.resource[type] && tf.resource[type][rname])) fail(`${name}: output ${oname} references missing ${type}.${rname}`);
    }
  }
  ok(`${name}: ${vars.size} variables, ${locals.size} locals and ${res.length} references resolve`);
}

function normPort(p) {
  if (typeof p === 'number') return String(p);
  if (typeof p === 'string') { const m = p.match(/^\$\{var\.([a-z0-9_]+)\}$/); return m ? m[1] : p; }
  if (p && p.Ref) return snake(p.Ref);
  return JSON.stringify(p);
}

function cfnContainers(doc) {
  const out = {};
  for (const r of Object.values(doc.Resources)) {
    if (r.Type !== 'AWS::ECS::TaskDefinition') continue;
    for (const c of r.Properties.ContainerDefinitions) {
      out[c.Name] = {
        ports: new Set(c.PortMappings.map((p) => normPort(p.ContainerPort))),
        env: new Set(c.Environment.map((e) => e.Name)),
        secrets: new Set((c.Secrets && c.Secrets.If ? c.Secrets.If[1] : (c.Secrets || [])).map((s) => s.Name)),
      };
    }
  }
  return out;
}

function tfContainers(tf) {
  const out = {};
  for (const [n, c] of Object.entries(tf.locals.containers || {})) {
    out[n] = { ports: new Set(c.ports.map(normPort)), env: new Set(Object.keys(c.environment)),
               secrets: new Set(tf.text.includes('name = "CONTROL_API_KEY"') ? ['CONTROL_API_KEY'] : []) };
  }
  return out;
}

const same = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));

async function stack(name, dir, extraCfnOnly) {
  const tf = await tfStack(path.join(root, dir, 'terraform'));
  checkRefs(name, tf);
  const doc = cfn(path.join(root, dir, 'cloudformation.yaml'));
  const params = Object.keys(doc.Parameters).map(snake);
  const vars = Object.keys(tf.variable);
  const tfOnly = new Set(['tags', 'cpu', 'memory']);
  for (const p of params) if (!vars.includes(p)) fail(`${name}: CloudFormation parameter ${p} has no Terraform variable`);
  for (const v of vars) if (!params.includes(v) && !tfOnly.has(v)) fail(`${name}: Terraform variable ${v} has no CloudFormation parameter`);
  ok(`${name}: parameters ${params.length} / variables ${vars.length} correspond`);
  const cc = cfnContainers(doc), tc = tfContainers(tf);
  if (!same(new Set(Object.keys(cc)), new Set(Object.keys(tc)))) fail(`${name}: containers differ: cfn ${Object.keys(cc)} tf ${Object.keys(tc)}`);
  for (const n of Object.keys(cc)) {
    if (!tc[n]) continue;
    if (!same(cc[n].ports, tc[n].ports)) fail(`${name}/${n}: ports differ cfn=${[...cc[n].ports]} tf=${[...tc[n].ports]}`);
    if (!same(cc[n].env, tc[n].env)) fail(`${name}/${n}: environment differs cfn=${[...cc[n].env].sort()} tf=${[...tc[n].env].sort()}`);
    if (!same(cc[n].secrets, tc[n].secrets)) fail(`${name}/${n}: secrets differ`);
  }
  ok(`${name}: containers ${Object.keys(cc).join(',')} have the same ports, environment and secrets`);
  // Everything the containers are given, for the --list-env check (written for infra.sh).
  const envs = {};
  for (const [n, c] of Object.entries(cc)) envs[n] = [...c.env, ...c.secrets];
  return envs;
}

const all = { ...(await stack('processing', 'infra/ecs/bytefreezer')), ...(await stack('proxy', 'infra/ecs/proxy')) };
fs.writeFileSync(process.env.BF_ENV_OUT || '/dev/null', JSON.stringify(all));
// The proxy stack's load balancer and target group names must fit AWS's 32 characters for any site.
const ptf = fs.readFileSync(path.join(root, 'infra/ecs/proxy/terraform/main.tf'), 'utf8');
const base = ptf.match(/lb_base\s*=\s*trimsuffix\(substr\("bfp-\$\{var\.site_name\}", 0, (\d+)\)/);
const hash = ptf.match(/lb_hash\s*=\s*substr\(md5\(local\.name\), 0, (\d+)\)/);
if (!base || !hash) fail('proxy: lb name expressions not found');
else {
  const longest = Number(base[1]) + 2 + Number(hash[1]);
  if (longest > 32) fail(`proxy: lb/target group names can reach ${longest} characters`); else ok(`proxy: lb/target group names at most ${longest} characters`);
}
const pdoc = cfn(path.join(root, 'infra/ecs/proxy/cloudformation.yaml'));
for (const [n, r] of Object.entries(pdoc.Resources)) {
  if (/ElasticLoadBalancingV2::(LoadBalancer|TargetGroup)/.test(r.Type) && r.Properties.Name) fail(`proxy cfn: ${n} has a fixed Name (may exceed 32 characters)`);
}
console.log(failures ? `terraform checks: ${failures} failed` : 'terraform checks: ok');
process.exit(failures ? 1 : 0);
