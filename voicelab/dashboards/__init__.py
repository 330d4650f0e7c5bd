"""The dashboard server, `voicelab serve`: Voila with sign-in, a bounded set of kernels, a demo.

- `server`: the Voila application and its pages (the app factory for `voicelab serve`);
- `dashboard_kernels`: the bound on live dashboard kernels and their owners;
- `sign_in`: the login page, the identity provider, who owns a kernel;
- `demo`: the demo batch a fresh install shows.

A face: nothing in the core imports it.
"""
