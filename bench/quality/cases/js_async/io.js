'use strict';

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

/** key=value lines of a config file; # comments and blank lines skipped. */
function readConfig(file) {
  const text = fs.readFileSync(file, 'utf8');
  const config = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    config[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return config;
}

function writeReport(file, rows) {
  const lines = rows.map(function (row) { return row.join('\t'); });
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return lines.length;
}

/** The names of the .json files in a directory, sorted. */
function listJsonFiles(dir) {
  return fs.readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
}

function totalSize(files) {
  let total = 0;
  for (const file of files) {
    total += fs.statSync(file).size;
  }
  return total;
}

/** Run a snippet with this node binary; its trimmed stdout. */
function runNode(code) {
  return execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' }).trim();
}

function appendLine(file, line) {
  fs.appendFileSync(file, line + '\n');
  return fs.readFileSync(file, 'utf8').split('\n').length - 1;
}

async function mergedConfig(files) {
  const merged = {};
  for (const file of files) {
    Object.assign(merged, readConfig(file));
  }
  return merged;
}

async function nodeSum(a, b) {
  return Number(runNode(`console.log(${a} + ${b})`));
}

function configKeys(file) {
  return Object.keys(readConfig(file)).sort();
}

module.exports = {
  readConfig, writeReport, listJsonFiles, totalSize, runNode, appendLine, mergedConfig,
  nodeSum, configKeys, path,
};
