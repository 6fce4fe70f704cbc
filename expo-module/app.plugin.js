// The config plugin, compiled from plugin/src by `npm run build`.
module.exports = require('./plugin/build');
